using System.Collections.Immutable;
using System.Text.Json;

namespace Triggers.Modular.Executions.Domain;

internal enum ExecutionStatus
{
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>Step states. <see cref="Scheduled"/>, <see cref="RetryWaiting"/> and <see cref="Sleeping"/> are shown as
/// <c>pending</c> / <c>running</c> in the API with the time they wait for.</summary>
internal enum StepStatus
{
    Pending,
    Scheduled,
    Running,
    RetryWaiting,
    Sleeping,
    Completed,
    Failed,
    Skipped,
    Cancelled,
}

/// <summary>One delivery of one attempt. <see cref="Outcome"/>: running, completed, failed, sleeping, interrupted (the
/// worker died holding it and it was delivered again), cancelled.</summary>
internal sealed record AttemptRecord(int Attempt, string Worker, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string Outcome,
    string? ErrorCode, string? Error);

internal sealed record StepState(
    string Id,
    StepStatus Status,
    int Attempt,
    int AttemptBase,
    JsonElement? Output,
    string? ErrorCode,
    string? Error,
    string? ReasonCode,
    string? Reason,
    DateTimeOffset? DueAt,
    DateTimeOffset? LeaseUntil,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    ImmutableList<AttemptRecord> Attempts)
{
    public static StepState New(string id) => new(id, StepStatus.Pending, 0, 0, null, null, null, null, null, null, null, null, null, []);

    public bool IsTerminal => Status is StepStatus.Completed or StepStatus.Failed or StepStatus.Skipped or StepStatus.Cancelled;

    /// <summary>Scheduled, running, waiting for a retry or sleeping: it holds one of the execution's parallel slots.</summary>
    public bool IsActive => Status is StepStatus.Scheduled or StepStatus.Running or StepStatus.RetryWaiting or StepStatus.Sleeping;

    public StepState WithLastAttempt(Func<AttemptRecord, AttemptRecord> change) =>
        Attempts.IsEmpty ? this : this with { Attempts = Attempts.SetItem(Attempts.Count - 1, change(Attempts[^1])) };
}

internal sealed record ExecutionError(string Reason, string? StepId, string Code, string Message);

internal sealed record ExecutionState(
    bool Exists,
    string Id,
    string TenantId,
    string Environment,
    string WorkflowId,
    int WorkflowVersion,
    string TriggerType,
    string? TriggerRef,
    JsonElement Payload,
    JsonElement? Event,
    ExecutionStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? FinishedAt,
    DateTimeOffset? TimeoutAt,
    ExecutionError? Error,
    int Retries,
    bool CancelRequested,
    ImmutableDictionary<string, StepState> Steps)
{
    public static ExecutionState Initial { get; } = new(false, "", "", "", "", 0, "", null, default, null, ExecutionStatus.Pending,
        default, default, null, null, null, 0, false, ImmutableDictionary<string, StepState>.Empty.WithComparers(StringComparer.Ordinal));

    public bool IsTerminal => Status is ExecutionStatus.Completed or ExecutionStatus.Failed or ExecutionStatus.Cancelled;

    public bool BelongsTo(string tenantId, string environment) =>
        Exists && string.Equals(TenantId, tenantId, StringComparison.Ordinal) && string.Equals(Environment, environment, StringComparison.Ordinal);

    public ExecutionState WithStep(string id, Func<StepState, StepState> change) => this with { Steps = Steps.SetItem(id, change(Steps[id])) };
}
