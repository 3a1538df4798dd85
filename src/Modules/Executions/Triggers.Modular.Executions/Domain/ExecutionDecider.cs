using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.Contracts.Conditions;
using Triggers.Modular.Executions.Contracts.Steps;

namespace Triggers.Modular.Executions.Domain;

internal abstract record ExecutionCommand(DateTimeOffset At)
{
    public sealed record Start(string ExecutionId, string TenantId, string Environment, string TriggerType, string? TriggerRef,
        JsonElement Payload, JsonElement? Event, DateTimeOffset At) : ExecutionCommand(At);

    /// <summary>A worker wants to run <see cref="StepId"/>'s attempt <see cref="Attempt"/>, holding it until <see cref="LeaseUntil"/>.</summary>
    public sealed record BeginAttempt(string StepId, int Attempt, string Worker, DateTimeOffset LeaseUntil, DateTimeOffset At) : ExecutionCommand(At);

    /// <summary>How <see cref="Worker"/>'s delivery of the attempt ended; accepted only from the worker holding the latest delivery.</summary>
    public sealed record RecordOutcome(string StepId, int Attempt, StepOutcome Outcome, string Worker, DateTimeOffset At) : ExecutionCommand(At);

    /// <summary>A sleeping step's timer is due.</summary>
    public sealed record Wake(string StepId, int Attempt, DateTimeOffset At) : ExecutionCommand(At);

    /// <summary>The whole-execution deadline may have passed.</summary>
    public sealed record Timeout(DateTimeOffset At) : ExecutionCommand(At);

    public sealed record Cancel(string? Reason, DateTimeOffset At) : ExecutionCommand(At);

    public sealed record Retry(DateTimeOffset At) : ExecutionCommand(At);
}

/// <summary>
/// The execution state machine, pure: given the definition version (<see cref="ExecutionPlan"/>), the trigger input and
/// the outcomes so far, it decides what happens next. Time enters only through commands (<c>At</c>), so the same
/// decisions come out in the embedded runtime, in a Temporal workflow, and in tests. Stale commands (an outcome for an
/// attempt that is no longer running, a second completion, a timer for a finished step) decide nothing: that is what
/// makes at-least-once delivery record each step's completion exactly once.
/// </summary>
internal sealed class ExecutionDecider(ExecutionPlan plan) : IDecider<ExecutionState, ExecutionCommand, IEvent>
{
    /// <summary>At most this many steps of one execution are scheduled, running, waiting for a retry or sleeping at once.</summary>
    public const int MaxParallelSteps = 16;

    public ExecutionPlan Plan => plan;

    public ExecutionState Initial => ExecutionState.Initial;

    public IReadOnlyList<IEvent> Decide(ExecutionState state, ExecutionCommand command)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(command);
        var d = new Decision(this, state);
        switch (command)
        {
            case ExecutionCommand.Start s:
                if (state.Exists) return []; // a repeated start is a no-op
                var timeoutAt = plan.TimeoutSeconds is { } limit ? s.At.AddSeconds(limit) : (DateTimeOffset?)null;
                d.Emit(new ExecutionStarted(s.ExecutionId, s.TenantId, s.Environment, plan.WorkflowId, plan.Version, s.TriggerType, s.TriggerRef,
                    s.Payload, s.Event, timeoutAt, s.At));
                if (plan.Error is { } error)
                {
                    d.StopSteps("the definition version cannot run", s.At);
                    d.Emit(new ExecutionFailed(s.ExecutionId, plan.WorkflowId, "invalid_definition", null, "invalid_definition", error, s.At));
                }
                else
                    d.Advance(s.At);
                break;
            case ExecutionCommand.BeginAttempt b:
                BeginAttempt(d, b);
                break;
            case ExecutionCommand.RecordOutcome o:
                RecordOutcome(d, o);
                break;
            case ExecutionCommand.Wake w:
                if (!state.IsTerminal && state.Steps.TryGetValue(w.StepId, out var sleeping) && sleeping.Status == StepStatus.Sleeping
                    && sleeping.Attempt == w.Attempt && sleeping.DueAt <= w.At)
                {
                    d.Emit(new StepCompleted(state.Id, w.StepId, w.Attempt, sleeping.Output ?? Empty, w.At));
                    d.Advance(w.At);
                }

                break;
            case ExecutionCommand.Timeout t:
                if (!state.IsTerminal && state.TimeoutAt is { } deadline && deadline <= t.At)
                {
                    d.StopSteps("execution timed out", t.At);
                    d.Emit(new ExecutionFailed(state.Id, state.WorkflowId, "timed_out", null, "timeout",
                        $"The execution did not finish within its timeout of {plan.TimeoutSeconds} s.", t.At));
                }

                break;
            case ExecutionCommand.Cancel c:
                if (state.Status == ExecutionStatus.Cancelled) return [];
                if (state.IsTerminal)
                    throw new ConflictException($"Execution '{state.Id}' has already {Describe(state.Status)}; only a running or pending execution can be cancelled.");
                d.Emit(new ExecutionCancelRequested(state.Id, c.Reason, c.At));
                d.StopSteps(c.Reason is null ? "execution cancelled" : $"execution cancelled: {c.Reason}", c.At, cancelPending: true);
                d.Emit(new ExecutionCancelled(state.Id, state.WorkflowId, c.At));
                break;
            case ExecutionCommand.Retry r:
                if (state.Status != ExecutionStatus.Failed)
                    throw new ConflictException($"Execution '{state.Id}' is {Describe(state.Status)}; only a failed execution can be retried.");
                if (state.Error?.Reason == "invalid_definition")
                    throw new ConflictException($"Execution '{state.Id}' failed because its definition version cannot run: {state.Error.Message}");
                var again = plan.Steps.Select(p => state.Steps[p.Id])
                    .Where(s => s.Status is StepStatus.Failed or StepStatus.Cancelled
                        || (s.Status == StepStatus.Skipped && s.ReasonCode == "execution_failed"))
                    .Select(s => s.Id).ToList();
                d.Emit(new ExecutionRetried(state.Id, again, plan.TimeoutSeconds is { } rt ? r.At.AddSeconds(rt) : null, r.At));
                d.Advance(r.At);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown command.");
        }

        return d.Events;
    }

    private static void BeginAttempt(Decision d, ExecutionCommand.BeginAttempt b)
    {
        var state = d.State;
        if (state.IsTerminal || !state.Steps.TryGetValue(b.StepId, out var step)) return;
        var may = step.Status switch
        {
            StepStatus.Scheduled => step.Attempt == b.Attempt,
            StepStatus.RetryWaiting => step.Attempt == b.Attempt && step.DueAt <= b.At,
            // The worker that held it died (or is stuck past its timeout): deliver the same attempt again.
            StepStatus.Running => step.Attempt == b.Attempt && step.LeaseUntil < b.At,
            _ => false,
        };
        if (may) d.Emit(new StepStarted(state.Id, b.StepId, b.Attempt, b.Worker, b.LeaseUntil, b.At));
    }

    private void RecordOutcome(Decision d, ExecutionCommand.RecordOutcome o)
    {
        var state = d.State;
        if (state.IsTerminal || !state.Steps.TryGetValue(o.StepId, out var step) || step.Status != StepStatus.Running || step.Attempt != o.Attempt
            || step.Attempts.IsEmpty || !string.Equals(step.Attempts[^1].Worker, o.Worker, StringComparison.Ordinal))
            return; // stale: that attempt is no longer running, or it was delivered again to another worker after this one's lease ran out
        switch (o.Outcome)
        {
            case StepOutcome.Completed c:
                d.Emit(new StepCompleted(state.Id, o.StepId, o.Attempt, c.Output, o.At));
                d.Advance(o.At);
                break;
            case StepOutcome.Sleep s when s.Until <= o.At:
                d.Emit(new StepCompleted(state.Id, o.StepId, o.Attempt, s.Output, o.At));
                d.Advance(o.At);
                break;
            case StepOutcome.Sleep s:
                d.Emit(new StepSleeping(state.Id, o.StepId, o.Attempt, s.Until, s.Output, o.At));
                break;
            case StepOutcome.Failed f:
                var policy = plan.Step(o.StepId).Retry;
                var retryable = f.Retryable && !policy.NonRetryableErrors.Contains(f.Code);
                var used = o.Attempt - step.AttemptBase;
                d.Emit(new StepFailed(state.Id, o.StepId, o.Attempt, f.Code, f.Message, retryable, o.At));
                if (retryable && used < policy.MaxAttempts)
                {
                    d.Emit(new StepRetryScheduled(state.Id, o.StepId, o.Attempt + 1, o.At + policy.BackoffAfter(used), o.At));
                    break;
                }

                foreach (var other in plan.Steps.Select(p => d.State.Steps[p.Id]).Where(s => !s.IsTerminal))
                    d.Emit(new StepSkipped(state.Id, other.Id, "execution_failed", $"step '{o.StepId}' failed", o.At));
                var why = !retryable ? (f.Retryable ? $"{f.Code} is listed in non_retryable_errors" : "the error is not retryable")
                    : $"{used} of {policy.MaxAttempts} attempts used";
                d.Emit(new ExecutionFailed(state.Id, state.WorkflowId, "step_failed", o.StepId, f.Code,
                    $"Step '{o.StepId}' failed on attempt {o.Attempt} ({why}): {f.Message}", o.At));
                break;
        }
    }

    public ExecutionState Evolve(ExecutionState state, IEvent @event)
    {
        ArgumentNullException.ThrowIfNull(state);
        return @event switch
        {
            ExecutionStarted e => state with
            {
                Exists = true, Id = e.ExecutionId, TenantId = e.TenantId, Environment = e.Environment, WorkflowId = e.WorkflowId,
                WorkflowVersion = e.WorkflowVersion, TriggerType = e.TriggerType, TriggerRef = e.TriggerRef, Payload = e.Payload, Event = e.Event,
                Status = ExecutionStatus.Pending, CreatedAt = e.At, UpdatedAt = e.At, TimeoutAt = e.TimeoutAt,
                Steps = plan.Steps.ToImmutableDictionary(s => s.Id, s => StepState.New(s.Id), StringComparer.Ordinal),
            },
            StepScheduled e => Touch(state, e.At).WithStep(e.StepId, s => s with
            {
                Status = StepStatus.Scheduled, Attempt = e.Attempt, DueAt = e.At, ReasonCode = null, Reason = null,
            }),
            StepStarted e => (Touch(state, e.At) with { Status = ExecutionStatus.Running }).WithStep(e.StepId, s => Started(s, e)),
            StepCompleted e => Touch(state, e.At).WithStep(e.StepId, s => s.WithLastAttempt(a => a.Outcome is "running" or "sleeping"
                ? a with { Outcome = "completed", FinishedAt = e.At } : a) with
            {
                Status = StepStatus.Completed, Output = e.Output, FinishedAt = e.At, LeaseUntil = null, DueAt = null, ErrorCode = null, Error = null,
            }),
            StepFailed e => Touch(state, e.At).WithStep(e.StepId, s => s.WithLastAttempt(a => a with
            {
                Outcome = "failed", FinishedAt = e.At, ErrorCode = e.ErrorCode, Error = e.Message,
            }) with
            {
                Status = StepStatus.Failed, ErrorCode = e.ErrorCode, Error = e.Message, FinishedAt = e.At, LeaseUntil = null,
            }),
            StepRetryScheduled e => Touch(state, e.At).WithStep(e.StepId, s => s with
            {
                Status = StepStatus.RetryWaiting, Attempt = e.NextAttempt, DueAt = e.DueAt, FinishedAt = null,
            }),
            StepSleeping e => Touch(state, e.At).WithStep(e.StepId, s => s.WithLastAttempt(a => a with { Outcome = "sleeping" }) with
            {
                Status = StepStatus.Sleeping, DueAt = e.Until, Output = e.Output, LeaseUntil = null,
            }),
            StepSkipped e => Touch(state, e.At).WithStep(e.StepId, s => s.WithLastAttempt(a => a.Outcome is "running" or "sleeping"
                ? a with { Outcome = "cancelled", FinishedAt = e.At } : a) with
            {
                Status = StepStatus.Skipped, ReasonCode = e.ReasonCode, Reason = e.Reason, FinishedAt = e.At, LeaseUntil = null, DueAt = null,
                Output = null,
            }),
            StepCancelled e => Touch(state, e.At).WithStep(e.StepId, s => s.WithLastAttempt(a => a.Outcome is "running" or "sleeping"
                ? a with { Outcome = "cancelled", FinishedAt = e.At } : a) with
            {
                Status = StepStatus.Cancelled, Reason = e.Reason, FinishedAt = e.At, LeaseUntil = null, DueAt = null,
            }),
            ExecutionCompleted e => Touch(state, e.At) with { Status = ExecutionStatus.Completed, FinishedAt = e.At },
            ExecutionFailed e => Touch(state, e.At) with
            {
                Status = ExecutionStatus.Failed, FinishedAt = e.At, Error = new ExecutionError(e.Reason, e.StepId, e.ErrorCode, e.Message),
            },
            ExecutionCancelRequested e => Touch(state, e.At) with { CancelRequested = true },
            ExecutionCancelled e => Touch(state, e.At) with { Status = ExecutionStatus.Cancelled, FinishedAt = e.At },
            ExecutionRetried e => e.Steps.Aggregate(Touch(state, e.At) with
            {
                Status = ExecutionStatus.Running, FinishedAt = null, Error = null, TimeoutAt = e.TimeoutAt, Retries = state.Retries + 1,
            }, (s, id) => s.WithStep(id, st => st with
            {
                Status = StepStatus.Pending, AttemptBase = st.Attempts.IsEmpty ? st.AttemptBase : st.Attempts[^1].Attempt, ErrorCode = null, Error = null, ReasonCode = null, Reason = null,
                FinishedAt = null, DueAt = null, LeaseUntil = null,
            })),
            _ => state,
        };
    }

    private static StepState Started(StepState step, StepStarted e)
    {
        // A second start of a running attempt is a redelivery: the earlier delivery was interrupted.
        var before = step.Status == StepStatus.Running ? step.WithLastAttempt(a => a with { Outcome = "interrupted", FinishedAt = e.At }) : step;
        return before with
        {
            Status = StepStatus.Running, Attempt = e.Attempt, LeaseUntil = e.LeaseUntil, StartedAt = step.StartedAt ?? e.At, DueAt = null,
            Attempts = before.Attempts.Add(new AttemptRecord(e.Attempt, e.Worker, e.At, null, "running", null, null)),
        };
    }

    private static ExecutionState Touch(ExecutionState state, DateTimeOffset at) => state with { UpdatedAt = at };

    private static string Describe(ExecutionStatus status) => status switch
    {
        ExecutionStatus.Completed => "completed",
        ExecutionStatus.Failed => "failed",
        ExecutionStatus.Cancelled => "been cancelled",
        ExecutionStatus.Running => "running",
        _ => "pending",
    };

    private static readonly JsonElement Empty = JsonDocument.Parse("{}").RootElement.Clone();

    /// <summary>Events decided so far, each folded into <see cref="State"/> at once so that later decisions see it.</summary>
    private sealed class Decision(ExecutionDecider decider, ExecutionState state)
    {
        public List<IEvent> Events { get; } = [];

        public ExecutionState State { get; private set; } = state;

        public void Emit(IEvent e)
        {
            Events.Add(e);
            State = decider.Evolve(State, e);
        }

        /// <summary>Stops every unfinished step: running or waiting ones are cancelled; pending ones are cancelled when
        /// <paramref name="cancelPending"/>, else skipped.</summary>
        public void StopSteps(string reason, DateTimeOffset at, bool cancelPending = false)
        {
            foreach (var step in decider.Plan.Steps.Select(p => State.Steps[p.Id]).Where(s => !s.IsTerminal))
            {
                if (step.Status == StepStatus.Pending && !cancelPending)
                    Emit(new StepSkipped(State.Id, step.Id, "execution_failed", reason, at));
                else
                    Emit(new StepCancelled(State.Id, step.Id, reason, at));
            }
        }

        /// <summary>Schedules every ready step (within the parallel bound), skips those whose condition is false or whose
        /// dependency did not complete, repeatedly until nothing changes; completes the execution when all steps are done.</summary>
        public void Advance(DateTimeOffset at)
        {
            if (State.IsTerminal) return;
            bool changed;
            do
            {
                changed = false;
                var active = State.Steps.Values.Count(s => s.IsActive);
                JsonElement? context = null;
                foreach (var planned in decider.Plan.Steps)
                {
                    var step = State.Steps[planned.Id];
                    if (step.Status != StepStatus.Pending) continue;
                    var deps = planned.DependsOn.Where(State.Steps.ContainsKey).Select(id => State.Steps[id]).ToList();
                    if (deps.Any(x => !x.IsTerminal)) continue;
                    // Declared dependencies must have completed; implicit ones (by order) only need to be over.
                    if (deps.FirstOrDefault(x => x.Status != StepStatus.Completed && (planned.ExplicitDependencies || x.Status != StepStatus.Skipped))
                        is { } blocked)
                    {
                        Emit(new StepSkipped(State.Id, planned.Id, "dependency_not_completed",
                            $"dependency '{blocked.Id}' was {blocked.Status.ToString().ToLowerInvariant()}", at));
                        changed = true;
                        context = null;
                        continue;
                    }

                    if (planned.Condition is { } condition)
                    {
                        context ??= ExecutionContextBuilder.Build(State, decider.Plan);
                        var result = ConditionEvaluator.Explain(condition, context.Value);
                        if (!result.Holds)
                        {
                            Emit(new StepSkipped(State.Id, planned.Id, "condition_false", $"condition is false: {result.Reason}", at));
                            changed = true;
                            context = null;
                            continue;
                        }
                    }

                    if (active >= MaxParallelSteps) continue;
                    Emit(new StepScheduled(State.Id, planned.Id, step.AttemptBase + 1, at));
                    active++;
                    changed = true;
                    context = null;
                }
            }
            while (changed);

            if (State.Steps.Values.All(s => s.Status is StepStatus.Completed or StepStatus.Skipped))
                Emit(new ExecutionCompleted(State.Id, State.WorkflowId, at));
        }
    }
}

/// <summary>The context templates and conditions see: <c>trigger</c>, <c>event</c>, <c>steps.&lt;id&gt;.output</c> (and
/// <c>.status</c>), <c>execution</c> (id, workflow_id, version, trigger_type, attempt numbers live on steps), <c>tenant</c>,
/// <c>environment</c>.</summary>
internal static class ExecutionContextBuilder
{
    public static JsonElement Build(ExecutionState state, ExecutionPlan plan)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WritePropertyName("trigger");
            if (state.Payload.ValueKind == JsonValueKind.Undefined) w.WriteNullValue();
            else state.Payload.WriteTo(w);
            w.WritePropertyName("event");
            if (state.Event is { ValueKind: not JsonValueKind.Undefined } e) e.WriteTo(w);
            else w.WriteNullValue();
            w.WriteStartObject("steps");
            foreach (var p in plan.Steps)
            {
                var s = state.Steps[p.Id];
                w.WriteStartObject(p.Id);
                w.WriteString("status", StepStatusNames.Of(s.Status));
                w.WritePropertyName("output");
                if (s.Status == StepStatus.Completed && s.Output is { ValueKind: not JsonValueKind.Undefined } o) o.WriteTo(w);
                else w.WriteNullValue();
                w.WriteNumber("attempt", s.Attempt);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteStartObject("execution");
            w.WriteString("id", state.Id);
            w.WriteString("workflow_id", state.WorkflowId);
            w.WriteNumber("version", state.WorkflowVersion);
            w.WriteString("trigger_type", state.TriggerType);
            w.WriteString("started_at", state.CreatedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            w.WriteEndObject();
            w.WriteString("tenant", state.TenantId);
            w.WriteString("environment", state.Environment);
            w.WriteEndObject();
        }

        return JsonDocument.Parse(buffer.ToArray()).RootElement.Clone();
    }
}

internal static class StepStatusNames
{
    /// <summary>The API's step statuses: pending, running, completed, failed, skipped, cancelled.</summary>
    public static string Of(StepStatus status) => status switch
    {
        StepStatus.Pending or StepStatus.Scheduled => "pending",
        StepStatus.Running or StepStatus.RetryWaiting or StepStatus.Sleeping => "running",
        StepStatus.Completed => "completed",
        StepStatus.Failed => "failed",
        StepStatus.Skipped => "skipped",
        _ => "cancelled",
    };

    public static string Of(ExecutionStatus status) => status.ToString().ToLowerInvariant();
}
