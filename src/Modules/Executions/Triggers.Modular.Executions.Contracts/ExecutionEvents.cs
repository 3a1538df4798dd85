using System.Text.Json;
using Triggers.Modular.BuildingBlocks.Aggregates;

namespace Triggers.Modular.Executions.Contracts;

// Integration events of the Executions module: the events of stream execution-{id}. Every decision the runtime takes is
// one of these, whichever runtime (embedded or Temporal) took it. Names are stable (ExecutionEventTypes); never rename.

/// <summary>An execution began: pinned to <see cref="WorkflowVersion"/>. <see cref="Payload"/> is the <c>trigger</c> input;
/// <see cref="Event"/> the accepted event (name, id, received_at) when an event started it. <see cref="TimeoutAt"/>: the
/// whole-execution deadline, if the definition sets one.</summary>
public sealed record ExecutionStarted(string ExecutionId, string TenantId, string Environment, string WorkflowId, int WorkflowVersion,
    string TriggerType, string? TriggerRef, JsonElement Payload, JsonElement? Event, DateTimeOffset? TimeoutAt, DateTimeOffset At) : IEvent;

/// <summary>A step is ready to run (its dependencies done, its condition true): attempt <see cref="Attempt"/>, due now.</summary>
public sealed record StepScheduled(string ExecutionId, string StepId, int Attempt, DateTimeOffset At) : IEvent;

/// <summary>A worker took the step's attempt; no other worker may take it before <see cref="LeaseUntil"/>. Recorded again
/// for the same attempt when a worker died holding it and the lease ran out (delivery is at least once).</summary>
public sealed record StepStarted(string ExecutionId, string StepId, int Attempt, string Worker, DateTimeOffset LeaseUntil, DateTimeOffset At) : IEvent;

public sealed record StepCompleted(string ExecutionId, string StepId, int Attempt, JsonElement Output, DateTimeOffset At) : IEvent;

/// <summary>An attempt failed. <see cref="Retryable"/>: whether the error kind allows a retry (whether one follows is
/// <see cref="StepRetryScheduled"/>).</summary>
public sealed record StepFailed(string ExecutionId, string StepId, int Attempt, string ErrorCode, string Message, bool Retryable,
    DateTimeOffset At) : IEvent;

/// <summary>The next attempt will run at <see cref="DueAt"/> (exponential back-off from the retry policy).</summary>
public sealed record StepRetryScheduled(string ExecutionId, string StepId, int NextAttempt, DateTimeOffset DueAt, DateTimeOffset At) : IEvent;

/// <summary>A durable timer (the <c>delay</c> step): the step completes with <see cref="Output"/> at <see cref="Until"/>.</summary>
public sealed record StepSleeping(string ExecutionId, string StepId, int Attempt, DateTimeOffset Until, JsonElement Output, DateTimeOffset At) : IEvent;

/// <summary>A step that will not run. <see cref="ReasonCode"/>: <c>condition_false</c>, <c>dependency_not_completed</c>,
/// <c>execution_failed</c>.</summary>
public sealed record StepSkipped(string ExecutionId, string StepId, string ReasonCode, string Reason, DateTimeOffset At) : IEvent;

/// <summary>A step stopped because the execution was cancelled or timed out.</summary>
public sealed record StepCancelled(string ExecutionId, string StepId, string Reason, DateTimeOffset At) : IEvent;

public sealed record ExecutionCompleted(string ExecutionId, string WorkflowId, DateTimeOffset At) : IEvent;

/// <summary><see cref="Reason"/>: <c>step_failed</c> (see <see cref="StepId"/>), <c>timed_out</c> or <c>invalid_definition</c>.</summary>
public sealed record ExecutionFailed(string ExecutionId, string WorkflowId, string Reason, string? StepId, string ErrorCode, string Message,
    DateTimeOffset At) : IEvent;

public sealed record ExecutionCancelRequested(string ExecutionId, string? Reason, DateTimeOffset At) : IEvent;

public sealed record ExecutionCancelled(string ExecutionId, string WorkflowId, DateTimeOffset At) : IEvent;

/// <summary>A failed execution runs again from <see cref="Steps"/> (the failed step and those it held up); completed steps
/// keep their outputs; attempts continue numbering from the last one.</summary>
public sealed record ExecutionRetried(string ExecutionId, IReadOnlyList<string> Steps, DateTimeOffset? TimeoutAt, DateTimeOffset At) : IEvent;

public static class ExecutionEventTypes
{
    public const string Category = "execution";
    public const string Prefix = "executions.";
    public const string Started = "executions.execution_started";
    public const string StepScheduled = "executions.step_scheduled";
    public const string StepStarted = "executions.step_started";
    public const string StepCompleted = "executions.step_completed";
    public const string StepFailed = "executions.step_failed";
    public const string StepRetryScheduled = "executions.step_retry_scheduled";
    public const string StepSleeping = "executions.step_sleeping";
    public const string StepSkipped = "executions.step_skipped";
    public const string StepCancelled = "executions.step_cancelled";
    public const string Completed = "executions.execution_completed";
    public const string Failed = "executions.execution_failed";
    public const string CancelRequested = "executions.execution_cancel_requested";
    public const string Cancelled = "executions.execution_cancelled";
    public const string Retried = "executions.execution_retried";

    public static string StreamFor(string executionId) => $"{Category}-{executionId}";

    public static EventTypeRegistry Register(EventTypeRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry
            .Register<ExecutionStarted>(Started)
            .Register<StepScheduled>(StepScheduled)
            .Register<StepStarted>(StepStarted)
            .Register<StepCompleted>(StepCompleted)
            .Register<StepFailed>(StepFailed)
            .Register<StepRetryScheduled>(StepRetryScheduled)
            .Register<StepSleeping>(StepSleeping)
            .Register<StepSkipped>(StepSkipped)
            .Register<StepCancelled>(StepCancelled)
            .Register<ExecutionCompleted>(Completed)
            .Register<ExecutionFailed>(Failed)
            .Register<ExecutionCancelRequested>(CancelRequested)
            .Register<ExecutionCancelled>(Cancelled)
            .Register<ExecutionRetried>(Retried);
    }
}
