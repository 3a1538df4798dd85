using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Executions.Contracts;

namespace Triggers.Modular.Executions.ReadModel;

/// <summary>One row per execution with its status, for the list endpoint and "which executions are still active".
/// A single execution is read from its stream instead, so it is never behind.</summary>
internal sealed class ExecutionsProjection(EventSerializer serializer) : IProjection
{
    public static IMigrationSource Migrations { get; } = new EmbeddedMigrationSource(
        "executions", typeof(ExecutionsProjection).Assembly, "Triggers.Modular.Executions.ReadModel");

    public string Name => "executions";

    public AllFilter? Filter { get; } = new(Categories: [ExecutionEventTypes.Category],
        EventTypePrefixes: [ExecutionEventTypes.Started, ExecutionEventTypes.StepStarted, ExecutionEventTypes.Completed, ExecutionEventTypes.Failed,
            ExecutionEventTypes.Cancelled, ExecutionEventTypes.Retried]);

    public static string Table(StoreDialect dialect) => dialect == StoreDialect.Postgres ? "executions.executions" : "executions_executions";

    public IReadOnlyList<string> Tables(StoreDialect dialect) => [Table(dialect)];

    public Task ApplyAsync(RecordedEvent e, ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(context);
        return serializer.Registry.IsRegistered(e.Type) ? ApplyAsync(serializer.Deserialize(e), context, cancellationToken) : Task.CompletedTask;
    }

    /// <summary>An execution that starts within the page is folded in memory and inserted once, as it stands at the page's
    /// end (with inline steps, most executions start and finish within one page); the others are updated event by event.</summary>
    public async Task ApplyBatchAsync(IReadOnlyList<RecordedEvent> events, ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(context);
        Dictionary<string, Row>? started = null;
        foreach (var e in events)
        {
            if (!serializer.Registry.IsRegistered(e.Type)) continue;
            var @event = serializer.Deserialize(e);
            if (@event is ExecutionStarted s)
            {
                (started ??= new(StringComparer.Ordinal)).TryAdd(s.ExecutionId, new Row(s));
                continue;
            }

            if (started is not null && ExecutionOf(@event) is { } id && started.TryGetValue(id, out var row))
                row.Apply(@event);
            else
                await ApplyAsync(@event, context, cancellationToken).ConfigureAwait(false);
        }

        if (started is null) return;
        if (context.Dialect == StoreDialect.Postgres && started.Count > 1)
            await InsertAllAsync(context, started.Values, cancellationToken).ConfigureAwait(false);
        else
            foreach (var row in started.Values)
                await InsertAsync(context, row, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>PostgreSQL: the page's new rows in one statement (one round trip instead of one per execution — a rebuild
    /// inserts hundreds per page). SQLite runs in-process: a statement per row costs no round trip.</summary>
    private static Task InsertAllAsync(ProjectionContext context, IReadOnlyCollection<Row> rows, CancellationToken cancellationToken)
    {
        var r = rows.ToArray();
        return context.ExecuteAsync($"INSERT INTO {context.Table(Table(context.Dialect))} (execution_id, tenant_id, environment, workflow_id, " +
            "workflow_version, status, trigger_type, trigger_ref, created_ms, created_at, updated_at, finished_at, error_code, error_message) " +
            "SELECT * FROM unnest(@id::text[], @tenant::text[], @env::text[], @wf::text[], @version::integer[], @status::text[], @type::text[], " +
            "@ref::text[], @ms::bigint[], @created::timestamptz[], @updated::timestamptz[], @finished::timestamptz[], @code::text[], @message::text[]) " +
            "ON CONFLICT (execution_id) DO NOTHING",
            new
            {
                id = r.Select(x => x.Started.ExecutionId).ToArray(), tenant = r.Select(x => x.Started.TenantId).ToArray(),
                env = r.Select(x => x.Started.Environment).ToArray(), wf = r.Select(x => x.Started.WorkflowId).ToArray(),
                version = r.Select(x => x.Started.WorkflowVersion).ToArray(), status = r.Select(x => x.Status).ToArray(),
                type = r.Select(x => x.Started.TriggerType).ToArray(), @ref = r.Select(x => x.Started.TriggerRef).ToArray(),
                ms = r.Select(x => x.Started.At.ToUnixTimeMilliseconds()).ToArray(), created = r.Select(x => x.Started.At.UtcDateTime).ToArray(),
                updated = r.Select(x => x.UpdatedAt.UtcDateTime).ToArray(), finished = r.Select(x => x.FinishedAt?.UtcDateTime).ToArray(),
                code = r.Select(x => x.ErrorCode).ToArray(), message = r.Select(x => x.ErrorMessage).ToArray(),
            }, cancellationToken);
    }

    public Task ResetAsync(ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.ExecuteAsync($"DELETE FROM {context.Table(Table(context.Dialect))}", null, cancellationToken);
    }

    private static Task ApplyAsync(object @event, ProjectionContext context, CancellationToken cancellationToken)
    {
        var d = context.Dialect;
        var t = context.Table(Table(d));
        return @event switch
        {
            ExecutionStarted s => InsertAsync(context, new Row(s), cancellationToken),
            StepStarted s => context.ExecuteAsync($"UPDATE {t} SET status = 'running', updated_at = @at WHERE execution_id = @id AND status = 'pending'",
                new { id = s.ExecutionId, at = SqlTime.Parameter(d, s.At) }, cancellationToken),
            ExecutionCompleted c => Finish(context, c.ExecutionId, "completed", c.At, null, null, cancellationToken),
            ExecutionFailed f => Finish(context, f.ExecutionId, "failed", f.At, f.ErrorCode, f.Message, cancellationToken),
            ExecutionCancelled c => Finish(context, c.ExecutionId, "cancelled", c.At, null, null, cancellationToken),
            ExecutionRetried r => context.ExecuteAsync($"UPDATE {t} SET status = 'running', updated_at = @at, finished_at = NULL, error_code = NULL, error_message = NULL WHERE execution_id = @id",
                new { id = r.ExecutionId, at = SqlTime.Parameter(d, r.At) }, cancellationToken),
            _ => Task.CompletedTask,
        };
    }

    private static string? ExecutionOf(object @event) => @event switch
    {
        StepStarted s => s.ExecutionId,
        ExecutionCompleted c => c.ExecutionId,
        ExecutionFailed f => f.ExecutionId,
        ExecutionCancelled c => c.ExecutionId,
        ExecutionRetried r => r.ExecutionId,
        _ => null,
    };

    private static Task InsertAsync(ProjectionContext context, Row r, CancellationToken cancellationToken)
    {
        var d = context.Dialect;
        return context.ExecuteAsync($"INSERT INTO {context.Table(Table(d))} (execution_id, tenant_id, environment, workflow_id, workflow_version, status, trigger_type, " +
            "trigger_ref, created_ms, created_at, updated_at, finished_at, error_code, error_message) VALUES (@id, @tenant, @env, @wf, @version, @status, " +
            "@type, @ref, @ms, @created, @updated, @finished, @code, @message) ON CONFLICT (execution_id) DO NOTHING",
            new
            {
                id = r.Started.ExecutionId, tenant = r.Started.TenantId, env = r.Started.Environment, wf = r.Started.WorkflowId,
                version = r.Started.WorkflowVersion, status = r.Status, type = r.Started.TriggerType, @ref = r.Started.TriggerRef,
                ms = r.Started.At.ToUnixTimeMilliseconds(), created = SqlTime.Parameter(d, r.Started.At), updated = SqlTime.Parameter(d, r.UpdatedAt),
                finished = SqlTime.Parameter(d, r.FinishedAt), code = r.ErrorCode, message = r.ErrorMessage,
            }, cancellationToken);
    }

    private static Task Finish(ProjectionContext context, string id, string status, DateTimeOffset at, string? code, string? message,
        CancellationToken cancellationToken) =>
        context.ExecuteAsync($"UPDATE {context.Table(Table(context.Dialect))} SET status = @status, updated_at = @at, finished_at = @at, error_code = @code, " +
            "error_message = @message WHERE execution_id = @id",
            new { id, status, at = SqlTime.Parameter(context.Dialect, at), code, message }, cancellationToken);

    /// <summary>An execution's row folded in memory: the same changes the statements above make, in the same order.</summary>
    private sealed class Row(ExecutionStarted started)
    {
        public ExecutionStarted Started { get; } = started;
        public string Status { get; private set; } = "pending";
        public DateTimeOffset UpdatedAt { get; private set; } = started.At;
        public DateTimeOffset? FinishedAt { get; private set; }
        public string? ErrorCode { get; private set; }
        public string? ErrorMessage { get; private set; }

        public void Apply(object @event)
        {
            switch (@event)
            {
                case StepStarted s:
                    if (Status != "pending") return;
                    Status = "running";
                    UpdatedAt = s.At;
                    break;
                case ExecutionCompleted c:
                    Finish("completed", c.At, null, null);
                    break;
                case ExecutionFailed f:
                    Finish("failed", f.At, f.ErrorCode, f.Message);
                    break;
                case ExecutionCancelled c:
                    Finish("cancelled", c.At, null, null);
                    break;
                case ExecutionRetried r:
                    Status = "running";
                    UpdatedAt = r.At;
                    FinishedAt = null;
                    ErrorCode = null;
                    ErrorMessage = null;
                    break;
            }
        }

        private void Finish(string status, DateTimeOffset at, string? code, string? message)
        {
            Status = status;
            UpdatedAt = at;
            FinishedAt = at;
            ErrorCode = code;
            ErrorMessage = message;
        }
    }
}
