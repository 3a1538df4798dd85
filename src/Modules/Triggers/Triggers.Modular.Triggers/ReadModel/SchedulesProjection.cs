using System.Globalization;
using Dapper;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Triggers.Contracts;
using Triggers.Modular.Triggers.Schedules;

namespace Triggers.Modular.Triggers.ReadModel;

/// <summary>
/// Each schedule trigger's cadence state (ADR 0015), folded from its <c>schedule-{trg}</c> stream with the decider's own
/// <see cref="ScheduleDecider.Evolve"/>, so the row is the state the decider would load, as of the projection's position;
/// plus counts of skipped and missed slots. The firing loop reads it to find due schedules without reading every stream
/// (it re-reads the stream before deciding); the list endpoint shows it. <see cref="TriggerDeleted"/> removes the row.
/// </summary>
internal sealed class SchedulesProjection(EventSerializer serializer) : IProjection
{
    public string Name => "schedules";

    public AllFilter? Filter { get; } = new(Categories: [ScheduleEventTypes.Category, TriggerEventTypes.Category],
        EventTypePrefixes: ["triggers.schedule_", TriggerEventTypes.Deleted]);

    public static string Table(StoreDialect dialect) => dialect == StoreDialect.Postgres ? "triggers.schedules" : "triggers_schedules";

    public IReadOnlyList<string> Tables(StoreDialect dialect) => [Table(dialect)];

    public async Task ApplyAsync(RecordedEvent e, ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(context);
        if (!serializer.Registry.IsRegistered(e.Type)) return;
        var d = context.Dialect;
        var t = context.Table(Table(d));
        var @event = serializer.Deserialize(e);
        if (@event is TriggerDeleted deleted)
        {
            await context.ExecuteAsync($"DELETE FROM {t} WHERE trigger_id = @id", new { id = deleted.TriggerId }, cancellationToken).ConfigureAwait(false);
            return;
        }

        var (triggerId, tenantId, environment) = @event switch
        {
            ScheduleSlotFired f => (f.TriggerId, f.TenantId, f.Environment),
            ScheduleSlotSkipped s => (s.TriggerId, s.TenantId, s.Environment),
            ScheduleSlotBuffered b => (b.TriggerId, b.TenantId, b.Environment),
            ScheduleSlotsMissed m => (m.TriggerId, m.TenantId, m.Environment),
            SchedulePaused p => (p.TriggerId, p.TenantId, p.Environment),
            ScheduleResumed r => (r.TriggerId, r.TenantId, r.Environment),
            _ => ((string?)null, "", ""),
        };
        if (triggerId is null) return;

        var row = await context.Connection.QuerySingleOrDefaultAsync(new CommandDefinition(
            $"SELECT paused, cursor_at, buffered_slot, buffered_at, last_run_at, last_execution_id, run_count, skipped_count, missed_count FROM {t} " +
            "WHERE trigger_id = @id", new { id = triggerId }, context.Transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        ScheduleState state = row is null ? ScheduleState.Initial : StateOf(row);
        long skipped = row is null ? 0 : Convert.ToInt64(row.skipped_count, CultureInfo.InvariantCulture);
        long missed = row is null ? 0 : Convert.ToInt64(row.missed_count, CultureInfo.InvariantCulture);
        state = ScheduleDecider.Instance.Evolve(state, (IEvent)@event);
        if (@event is ScheduleSlotSkipped) skipped++;
        if (@event is ScheduleSlotsMissed slots) missed += slots.Count;

        await context.ExecuteAsync($"INSERT INTO {t} (trigger_id, tenant_id, environment, paused, cursor_at, buffered_slot, buffered_at, last_run_at, " +
            "last_execution_id, run_count, skipped_count, missed_count, stream_revision) VALUES (@id, @tenant, @env, @paused, @cursor, @buffered, " +
            "@bufferedAt, @lastRun, @lastExecution, @runs, @skipped, @missed, @revision) ON CONFLICT (trigger_id) DO UPDATE SET paused = excluded.paused, " +
            "cursor_at = excluded.cursor_at, stream_revision = excluded.stream_revision, " +
            "buffered_slot = excluded.buffered_slot, buffered_at = excluded.buffered_at, last_run_at = excluded.last_run_at, " +
            "last_execution_id = excluded.last_execution_id, run_count = excluded.run_count, skipped_count = excluded.skipped_count, " +
            "missed_count = excluded.missed_count",
            new
            {
                id = triggerId, tenant = tenantId, env = environment, paused = state.Paused, cursor = SqlTime.Parameter(d, state.Cursor),
                buffered = state.BufferedSlot, bufferedAt = SqlTime.Parameter(d, state.BufferedAt), lastRun = SqlTime.Parameter(d, state.LastRunAt),
                lastExecution = state.LastExecutionId, runs = state.RunCount, skipped, missed, revision = e.Revision,
            }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The decider's state as of the row's <c>stream_revision</c> (a decision reads the stream after it), or null when
    /// the schedule has no row yet (it never decided anything, or the read model is being rebuilt: load from the start).</summary>
    public static async Task<(ScheduleState State, long Revision)?> SnapshotAsync(IStoreDatabase database, string triggerId,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync(new CommandDefinition(
            $"SELECT paused, cursor_at, buffered_slot, buffered_at, last_run_at, last_execution_id, run_count, stream_revision FROM {Table(database.Dialect)} " +
            "WHERE trigger_id = @triggerId", new { triggerId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (row is null) return null;
        ScheduleState state = StateOf(row);
        return (state, Convert.ToInt64(row.stream_revision, CultureInfo.InvariantCulture));
    }

    public Task ResetAsync(ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.ExecuteAsync($"DELETE FROM {context.Table(Table(context.Dialect))}", null, cancellationToken);
    }

    private static ScheduleState StateOf(dynamic row) =>
        new(SqlTime.ReadNullable((object?)row.cursor_at), SqlBool.Read((object)row.paused), (string?)row.last_execution_id, SqlTime.ReadNullable((object?)row.last_run_at),
            Convert.ToInt64((object)row.run_count, CultureInfo.InvariantCulture), (string?)row.buffered_slot, SqlTime.ReadNullable((object?)row.buffered_at));

}
