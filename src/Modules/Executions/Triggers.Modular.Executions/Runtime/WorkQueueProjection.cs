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

    public Task ApplyAsync(RecordedEvent e, ProjectionContext context, CancellationToken cancellationToken) =>
        ApplyBatchAsync([e], context, cancellationToken);

    /// <summary>Folds the page per execution and writes only the net change: an execution that starts and finishes within
    /// the page (the usual case with inline steps) writes nothing at all; a step scheduled, started and completed within it,
    /// nothing for that step.</summary>
    public async Task ApplyBatchAsync(IReadOnlyList<RecordedEvent> events, ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(context);
        var executions = new Dictionary<string, NetWork>(StringComparer.Ordinal);
        NetWork Of(string id) => executions.TryGetValue(id, out var w) ? w : executions[id] = new NetWork();
        foreach (var e in events)
        {
            if (!serializer.Registry.IsRegistered(e.Type)) continue;
            switch (serializer.Deserialize(e))
            {
                case ExecutionStarted s:
                    var born = Of(s.ExecutionId);
                    born.Cleared = true; // its first event: no row of it can exist yet
                    if (s.TimeoutAt is { } deadline) born.Set(TimeoutItem, new Item(WorkKinds.Timeout, null, 0, deadline.ToUnixTimeMilliseconds()));
                    break;
                case ExecutionRetried { TimeoutAt: { } due } r:
                    Of(r.ExecutionId).Set(TimeoutItem, new Item(WorkKinds.Timeout, null, 0, due.ToUnixTimeMilliseconds()));
                    break;
                case StepScheduled s:
                    Of(s.ExecutionId).Set(StepItem(s.StepId), new Item(WorkKinds.Step, s.StepId, s.Attempt, s.At.ToUnixTimeMilliseconds()));
                    break;
                case StepRetryScheduled r:
                    Of(r.ExecutionId).Set(StepItem(r.StepId), new Item(WorkKinds.Step, r.StepId, r.NextAttempt, r.DueAt.ToUnixTimeMilliseconds()));
                    break;
                case StepSleeping s:
                    Of(s.ExecutionId).Set(StepItem(s.StepId), new Item(WorkKinds.Timer, s.StepId, s.Attempt, s.Until.ToUnixTimeMilliseconds()));
                    break;
                case StepStarted s:
                    // Nobody else should pick the attempt up before the worker's lease ends.
                    Of(s.ExecutionId).Lease(StepItem(s.StepId), s.Attempt, s.Worker, s.LeaseUntil.ToUnixTimeMilliseconds());
                    break;
                case StepCompleted c:
                    Of(c.ExecutionId).Delete(StepItem(c.StepId));
                    break;
                case StepFailed f:
                    Of(f.ExecutionId).Delete(StepItem(f.StepId));
                    break;
                case StepSkipped s:
                    Of(s.ExecutionId).Delete(StepItem(s.StepId));
                    break;
                case StepCancelled c:
                    Of(c.ExecutionId).Delete(StepItem(c.StepId));
                    break;
                case ExecutionCompleted c:
                    Of(c.ExecutionId).DeleteAll();
                    break;
                case ExecutionFailed f:
                    Of(f.ExecutionId).DeleteAll();
                    break;
                case ExecutionCancelled c:
                    Of(c.ExecutionId).DeleteAll();
                    break;
            }
        }

        var t = Table(context.Dialect);
        foreach (var (id, work) in executions)
        {
            if (work.DeleteAllFirst)
                await context.ExecuteAsync($"DELETE FROM {t} WHERE execution_id = @id", new { id }, cancellationToken).ConfigureAwait(false);
            foreach (var (item, op) in work.Items)
            {
                if (op.Row is { } row)
                    await context.ExecuteAsync($"INSERT INTO {t} (execution_id, item, kind, step_id, attempt, due_ms, lease_owner, lease_ms) " +
                        "VALUES (@id, @item, @kind, @step, @attempt, @due, @owner, @lease) ON CONFLICT (execution_id, item) DO UPDATE SET " +
                        "kind = excluded.kind, step_id = excluded.step_id, attempt = excluded.attempt, due_ms = excluded.due_ms, " +
                        "lease_owner = excluded.lease_owner, lease_ms = excluded.lease_ms",
                        new { id, item, kind = row.Kind, step = row.StepId, attempt = row.Attempt, due = row.DueMs, owner = row.LeaseOwner, lease = row.LeaseMs },
                        cancellationToken).ConfigureAwait(false);
                else if (work.Cleared)
                    continue; // the row was never written, or the delete-all above removed it
                else if (op.Leases is { } leases)
                    foreach (var (attempt, owner, lease) in leases)
                        await context.ExecuteAsync($"UPDATE {t} SET lease_owner = @owner, lease_ms = @lease WHERE execution_id = @id AND item = @item AND attempt = @attempt",
                            new { owner, lease, id, item, attempt }, cancellationToken).ConfigureAwait(false);
                else
                    await context.ExecuteAsync($"DELETE FROM {t} WHERE execution_id = @id AND item = @item", new { id, item }, cancellationToken)
                        .ConfigureAwait(false);
            }
        }
    }

    public Task ResetAsync(ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.ExecuteAsync($"DELETE FROM {Table(context.Dialect)}", null, cancellationToken);
    }

    private sealed record Item(string Kind, string? StepId, int Attempt, long DueMs)
    {
        public string? LeaseOwner { get; set; }
        public long? LeaseMs { get; set; }
    }

    /// <summary>What to do with one row at the page's end: write <see cref="Row"/>; else set the lease on the stored row
    /// (<see cref="Leases"/>, in order); else delete it.</summary>
    private sealed record Op(Item? Row, List<(int Attempt, string Owner, long Lease)>? Leases);

    /// <summary>One execution's rows, folded over a page.</summary>
    private sealed class NetWork
    {
        /// <summary>No stored row of this execution is left (it started within the page, or a delete-all is written first).</summary>
        public bool Cleared { get; set; }

        public bool DeleteAllFirst { get; private set; }

        public Dictionary<string, Op> Items { get; } = new(StringComparer.Ordinal);

        public void Set(string item, Item row) => Items[item] = new Op(row, null);

        public void Lease(string item, int attempt, string owner, long lease)
        {
            if (Items.TryGetValue(item, out var op))
            {
                if (op.Row is { } row)
                {
                    if (row.Attempt != attempt) return; // the stored statement would match no row either
                    row.LeaseOwner = owner;
                    row.LeaseMs = lease;
                }
                else
                    op.Leases?.Add((attempt, owner, lease)); // after a delete: nothing to update
            }
            else if (!Cleared)
                Items[item] = new Op(null, [(attempt, owner, lease)]);
        }

        public void Delete(string item) => Items[item] = new Op(null, null);

        public void DeleteAll()
        {
            if (!Cleared) DeleteAllFirst = true;
            Cleared = true;
            Items.Clear();
        }
    }
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
