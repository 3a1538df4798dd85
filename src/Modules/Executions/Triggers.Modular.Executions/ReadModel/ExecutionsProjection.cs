using Dapper;
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

    public Task ApplyAsync(RecordedEvent e, ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(context);
        if (!serializer.Registry.IsRegistered(e.Type)) return Task.CompletedTask;
        var d = context.Dialect;
        var t = Table(d);
        return serializer.Deserialize(e) switch
        {
            ExecutionStarted s => context.ExecuteAsync($"INSERT INTO {t} (execution_id, tenant_id, environment, workflow_id, workflow_version, status, trigger_type, trigger_ref, created_ms, " +
                "created_at, updated_at) VALUES (@id, @tenant, @env, @wf, @version, 'pending', @type, @ref, @ms, @at, @at) ON CONFLICT (execution_id) DO NOTHING",
                new { id = s.ExecutionId, tenant = s.TenantId, env = s.Environment, wf = s.WorkflowId, version = s.WorkflowVersion, type = s.TriggerType,
                    @ref = s.TriggerRef, ms = s.At.ToUnixTimeMilliseconds(), at = SqlTime.Parameter(d, s.At) }, cancellationToken),
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

    public Task ResetAsync(ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.ExecuteAsync($"DELETE FROM {Table(context.Dialect)}", null, cancellationToken);
    }

    private static Task Finish(ProjectionContext context, string id, string status, DateTimeOffset at, string? code, string? message,
        CancellationToken cancellationToken) =>
        context.ExecuteAsync($"UPDATE {Table(context.Dialect)} SET status = @status, updated_at = @at, finished_at = @at, error_code = @code, " +
            "error_message = @message WHERE execution_id = @id",
            new { id, status, at = SqlTime.Parameter(context.Dialect, at), code, message }, cancellationToken);

}
