using Dapper;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.BuildingBlocks.Aggregates;

namespace Triggers.Modular.Executions.Runtime;

/// <summary>
/// The embedded runtime's due work as a read model of the execution events: a row per step to run (or retry after its
/// back-off), per sleeping step's timer and per whole-execution deadline. Being a projection, it is rebuilt from the
/// store after any crash: nothing decided can be forgotten. Rows are hints — the execution's stream decides whether the
/// work is still to be done — so a row that outlives its work costs one stream read and nothing else.
/// </summary>
internal sealed class WorkQueueProjection(EventSerializer serializer) : IProjection
{
    public string Name => "executions-work";

    public AllFilter? Filter { get; } = AllFilter.ForCategories(ExecutionEventTypes.Category);

    public static string Table(StoreDialect dialect) => dialect == StoreDialect.Postgres ? "executions.work" : "executions_work";

    public static string StepItem(string stepId) => $"step:{stepId}";

    public const string TimeoutItem = "timeout";

    public Task ApplyAsync(RecordedEvent e, ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(context);
        if (!serializer.Registry.IsRegistered(e.Type)) return Task.CompletedTask;
        var t = Table(context.Dialect);
        return serializer.Deserialize(e) switch
        {
            ExecutionStarted s when s.TimeoutAt is { } due => Upsert(context, s.ExecutionId, TimeoutItem, WorkKinds.Timeout, null, 0, due, cancellationToken),
            ExecutionRetried r when r.TimeoutAt is { } due => Upsert(context, r.ExecutionId, TimeoutItem, WorkKinds.Timeout, null, 0, due, cancellationToken),
            StepScheduled s => Upsert(context, s.ExecutionId, StepItem(s.StepId), WorkKinds.Step, s.StepId, s.Attempt, s.At, cancellationToken),
            StepRetryScheduled r => Upsert(context, r.ExecutionId, StepItem(r.StepId), WorkKinds.Step, r.StepId, r.NextAttempt, r.DueAt, cancellationToken),
            StepSleeping s => Upsert(context, s.ExecutionId, StepItem(s.StepId), WorkKinds.Timer, s.StepId, s.Attempt, s.Until, cancellationToken),
            // Nobody else should pick the attempt up before the worker's lease ends.
            StepStarted s => context.ExecuteAsync($"UPDATE {t} SET lease_owner = @owner, lease_ms = @lease WHERE execution_id = @id AND item = @item AND attempt = @attempt",
                new { owner = s.Worker, lease = s.LeaseUntil.ToUnixTimeMilliseconds(), id = s.ExecutionId, item = StepItem(s.StepId), attempt = s.Attempt },
                cancellationToken),
            StepCompleted c => DeleteStep(context, c.ExecutionId, c.StepId, cancellationToken),
            StepFailed f => DeleteStep(context, f.ExecutionId, f.StepId, cancellationToken),
            StepSkipped s => DeleteStep(context, s.ExecutionId, s.StepId, cancellationToken),
            StepCancelled c => DeleteStep(context, c.ExecutionId, c.StepId, cancellationToken),
            ExecutionCompleted c => DeleteAll(context, c.ExecutionId, cancellationToken),
            ExecutionFailed f => DeleteAll(context, f.ExecutionId, cancellationToken),
            ExecutionCancelled c => DeleteAll(context, c.ExecutionId, cancellationToken),
            _ => Task.CompletedTask,
        };
    }

    public Task ResetAsync(ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.ExecuteAsync($"DELETE FROM {Table(context.Dialect)}", null, cancellationToken);
    }

    private static Task Upsert(ProjectionContext context, string executionId, string item, string kind, string? stepId, int attempt,
        DateTimeOffset due, CancellationToken cancellationToken) =>
        context.ExecuteAsync($"INSERT INTO {Table(context.Dialect)} (execution_id, item, kind, step_id, attempt, due_ms, lease_owner, lease_ms) " +
            "VALUES (@id, @item, @kind, @step, @attempt, @due, NULL, NULL) ON CONFLICT (execution_id, item) DO UPDATE SET " +
            "kind = excluded.kind, step_id = excluded.step_id, attempt = excluded.attempt, due_ms = excluded.due_ms, lease_owner = NULL, lease_ms = NULL",
            new { id = executionId, item, kind, step = stepId, attempt, due = due.ToUnixTimeMilliseconds() }, cancellationToken);

    private static Task DeleteStep(ProjectionContext context, string executionId, string stepId, CancellationToken cancellationToken) =>
        context.ExecuteAsync($"DELETE FROM {Table(context.Dialect)} WHERE execution_id = @id AND item = @item",
            new { id = executionId, item = StepItem(stepId) }, cancellationToken);

    private static Task DeleteAll(ProjectionContext context, string executionId, CancellationToken cancellationToken) =>
        context.ExecuteAsync($"DELETE FROM {Table(context.Dialect)} WHERE execution_id = @id", new { id = executionId }, cancellationToken);

}

internal static class WorkKinds
{
    public const string Step = "step";
    public const string Timer = "timer";
    public const string Timeout = "timeout";
}

/// <summary>One due item, claimed from the work table or handed over in-process. <see cref="Hint"/>: the execution as the
/// decision that made the item due left it (in-process only), which saves a read; a stale hint costs a conflict and a reload.</summary>
internal sealed record WorkItem(string ExecutionId, string Kind, string? StepId, int Attempt, LoadedExecution? Hint = null);

/// <summary>Claims due rows for a while so that pollers on other instances pass them by (<c>SKIP LOCKED</c> on PostgreSQL,
/// the write lock on SQLite). The claim only spares work; exclusivity of a step attempt comes from the stream.</summary>
internal sealed class WorkQueue(IStoreDatabase database)
{
#pragma warning disable CA1812, IDE1006 // materialised by Dapper (properties: SQLite returns INTEGER as Int64, PostgreSQL as Int32)
    private sealed class Row
    {
        public string execution_id { get; set; } = "";
        public string kind { get; set; } = "";
        public string? step_id { get; set; }
        public long attempt { get; set; }
    }
#pragma warning restore CA1812, IDE1006

    public async Task<IReadOnlyList<WorkItem>> ClaimAsync(string owner, int max, DateTimeOffset now, TimeSpan claimFor, CancellationToken cancellationToken)
    {
        if (max <= 0) return [];
        var t = WorkQueueProjection.Table(database.Dialect);
        var sql = database.Dialect == StoreDialect.Postgres
            ? $"UPDATE {t} w SET lease_owner = @owner, lease_ms = @lease FROM (SELECT execution_id, item FROM {t} " +
              "WHERE due_ms <= @now AND (lease_ms IS NULL OR lease_ms < @now) ORDER BY due_ms LIMIT @max FOR UPDATE SKIP LOCKED) c " +
              "WHERE w.execution_id = c.execution_id AND w.item = c.item RETURNING w.execution_id, w.kind, w.step_id, w.attempt"
            : $"UPDATE {t} SET lease_owner = @owner, lease_ms = @lease WHERE rowid IN (SELECT rowid FROM {t} " +
              "WHERE due_ms <= @now AND (lease_ms IS NULL OR lease_ms < @now) ORDER BY due_ms LIMIT @max) " +
              "RETURNING execution_id, kind, step_id, attempt";
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await database.BeginWriteTransactionAsync(connection, cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(sql, new
        {
            owner, lease = (now + claimFor).ToUnixTimeMilliseconds(), now = now.ToUnixTimeMilliseconds(), max,
        }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new WorkItem(r.execution_id, r.kind, r.step_id, (int)r.attempt)).ToList();
    }

    /// <summary>Rows not yet done (due or not): the runtime queue depth.</summary>
    public async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT COUNT(*) FROM {WorkQueueProjection.Table(database.Dialect)} WHERE kind <> 'timeout'", cancellationToken: cancellationToken))
            .ConfigureAwait(false);
    }
}
