using System.Text.Json;

namespace Triggers.Modular.Executions.Contracts;

/// <summary>
/// Starts one execution of a definition in <see cref="TenantId"/> × <see cref="Environment"/>. Idempotent on
/// <see cref="ExecutionId"/> (<c>exec_…</c>): a repeated start is a no-op that answers the existing execution, so a
/// dispatcher that derives the id from what fired (event × trigger, schedule slot) can redeliver safely.
/// <see cref="WorkflowVersion"/> null pins the latest version. <see cref="TriggerType"/>: <c>event</c>, <c>webhook</c>,
/// <c>schedule</c>, <c>manual</c> or <c>api</c>; <see cref="TriggerRef"/> names what fired it (trigger id, event id…).
/// <see cref="Payload"/> is the <c>trigger</c> input of templates and conditions; <see cref="Event"/>, when an event
/// started it, is <c>{ name, id, received_at }</c>. <see cref="RequireEnabled"/>: refuse (409) when the definition is disabled.
/// </summary>
public sealed record StartExecution(
    string ExecutionId,
    string TenantId,
    string Environment,
    string WorkflowId,
    int? WorkflowVersion,
    string TriggerType,
    string? TriggerRef,
    JsonElement Payload,
    JsonElement? Event = null,
    bool RequireEnabled = true,
    string? CorrelationId = null,
    string? CausationId = null,
    string Actor = "system");

/// <summary><see cref="Created"/> is false when the execution already existed (a repeated start).</summary>
public sealed record StartExecutionResult(string ExecutionId, string Status, int WorkflowVersion, bool Created);

/// <summary>The Executions module's public facade; other modules talk to it only through this project.</summary>
public interface IExecutionsModule
{
    /// <summary>Starts an execution (see <see cref="StartExecution"/>). Throws the API errors (404 unknown definition,
    /// 409 disabled) that the caller maps.</summary>
    Task<StartExecutionResult> StartAsync(StartExecution command, CancellationToken cancellationToken = default);

    /// <summary>Ids of the executions of a definition that have not finished (pending or running), from the read model.</summary>
    Task<IReadOnlyList<string>> ListActiveAsync(string tenantId, string environment, string workflowId, CancellationToken cancellationToken = default);

    /// <summary>Whether an execution has finished (completed, failed or cancelled), from its stream, so exact right after any
    /// change; null when it has not started yet (or is another tenant's or environment's).</summary>
    Task<bool?> IsFinishedAsync(string tenantId, string environment, string executionId, CancellationToken cancellationToken = default);

    /// <summary>Cancels an execution unless it has already finished; true when this call cancelled it.</summary>
    Task<bool> CancelAsync(string tenantId, string environment, string executionId, string? reason, CancellationToken cancellationToken = default);
}
