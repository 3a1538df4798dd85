using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Executions.Domain;

namespace Triggers.Modular.Executions.Runtime;

/// <summary>
/// <see cref="IExecutionRuntimePort"/> on the execution store: the same load–decide–append (conflicts reloaded and decided
/// again) as the embedded runtime's decisions, without its inline steps or local timers — the runtime calling drives those.
/// </summary>
internal sealed class ExecutionRuntimePort(ExecutionStore store, IEventStore events, EventSerializer serializer, StepAttempts attempts,
    TimeProvider clock) : IExecutionRuntimePort
{
    private const int PageSize = 500;

    public async Task<RuntimeSync?> DecideAsync(string executionId, RuntimeCommand? command, long knownRevision, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(executionId);
        if (command is not null)
        {
            var loaded = await store.LoadAsync(executionId, cancellationToken).ConfigureAwait(false);
            if (loaded is null) return null;
            var metadata = loaded.RuntimeMetadata;
            try
            {
                await store.DecideAsync(executionId, () => Command(command, clock.GetUtcNow()), metadata, current: loaded,
                    maxAttempts: 500, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (ConflictException) when (command is RuntimeCommand.Cancel)
            {
                // Already finished: nothing to cancel; the caller sees how it ended in the events.
            }
        }

        return await ReadAfterAsync(executionId, knownRevision, cancellationToken).ConfigureAwait(false);
    }

    public async Task<RuntimeSync?> RunStepAsync(string executionId, string stepId, int attempt, string worker, long knownRevision,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(executionId);
        var loaded = await store.LoadAsync(executionId, cancellationToken).ConfigureAwait(false);
        if (loaded is null) return null;
        if (loaded.State.Steps.ContainsKey(stepId))
            await RunAttemptAsync(loaded, stepId, attempt, worker, cancellationToken).ConfigureAwait(false);
        return await ReadAfterAsync(executionId, knownRevision, cancellationToken).ConfigureAwait(false);
    }

    public async Task<StepRun?> RunDueStepAsync(string executionId, string stepId, string worker, long knownRevision,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(executionId);
        var loaded = await store.LoadAsync(executionId, cancellationToken).ConfigureAwait(false);
        if (loaded is null) return null;
        int? attempt = null;
        StepOutcome? outcome = null;
        DateTimeOffset? notBefore = null;
        if (!loaded.State.IsTerminal && loaded.State.Steps.TryGetValue(stepId, out var step))
        {
            var now = clock.GetUtcNow();
            switch (step.Status)
            {
                case StepStatus.RetryWaiting when step.DueAt > now:
                    notBefore = step.DueAt;
                    break;
                case StepStatus.Running when step.LeaseUntil >= now:
                    notBefore = step.LeaseUntil.Value.AddTicks(1); // the decider delivers an attempt again once its lease is over
                    break;
                case StepStatus.Scheduled or StepStatus.RetryWaiting or StepStatus.Running:
                    attempt = step.Attempt;
                    outcome = await RunAttemptAsync(loaded, stepId, step.Attempt, worker, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }

        var sync = await ReadAfterAsync(executionId, knownRevision, cancellationToken).ConfigureAwait(false);
        return sync is null ? null : new StepRun(sync, outcome is null ? null : attempt, outcome, notBefore);
    }

    /// <summary>Begins the attempt, runs its handler and records its outcome; the outcome, or null when the attempt did not
    /// begin (not due, another worker's) or was abandoned.</summary>
    private async Task<StepOutcome?> RunAttemptAsync(LoadedExecution loaded, string stepId, int attempt, string worker, CancellationToken cancellationToken)
    {
        var executionId = loaded.State.Id;
        var planned = loaded.Decider.Plan.Step(stepId);
        var timeout = attempts.TimeoutOf(planned);
        var metadata = loaded.RuntimeMetadata;
        var begin = await store.DecideAsync(executionId, () => new ExecutionCommand.BeginAttempt(stepId, attempt, worker,
            attempts.LeaseUntil(clock.GetUtcNow(), timeout), clock.GetUtcNow()), metadata, current: loaded,
            maxAttempts: 500, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (begin is null || !begin.Events.OfType<StepStarted>().Any(s => s.StepId == stepId && s.Attempt == attempt)) return null;
        var step = StepAttempts.Context(begin.State, loaded.Decider.Plan, planned, attempt, clock.GetUtcNow(), timeout);
        if (await attempts.InvokeAsync(planned, step, timeout, cancellationToken).ConfigureAwait(false) is not { } outcome) return null;
        return await RecordAsync(executionId, stepId, attempt, worker, attempts.CapOutput(outcome).Outcome, metadata, begin.AsLoaded()).ConfigureAwait(false);
    }

    /// <summary>Records an outcome with its own deadline (not the caller's token: the attempt ran, its outcome is kept); an
    /// outcome the store refuses (too large) fails the step — as the embedded runtime does.</summary>
    private async Task<StepOutcome> RecordAsync(string executionId, string stepId, int attempt, string worker, StepOutcome outcome, EventMetadata metadata,
        LoadedExecution current)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await store.DecideAsync(executionId, () => new ExecutionCommand.RecordOutcome(stepId, attempt, outcome, worker, clock.GetUtcNow()),
                metadata, current: current, maxAttempts: 500, cancellationToken: deadline.Token).ConfigureAwait(false);
            return outcome;
        }
        catch (InvalidAppendException ex)
        {
            var failed = StepOutcome.NonRetryableError("outcome_not_recorded", $"The step's outcome could not be recorded: {ex.Message}");
            await store.DecideAsync(executionId, () => new ExecutionCommand.RecordOutcome(stepId, attempt, failed, worker, clock.GetUtcNow()),
                metadata, maxAttempts: 500, cancellationToken: deadline.Token).ConfigureAwait(false);
            return failed;
        }
    }

    private static ExecutionCommand Command(RuntimeCommand command, DateTimeOffset now) => command switch
    {
        RuntimeCommand.BeginAttempt b => new ExecutionCommand.BeginAttempt(b.StepId, b.Attempt, b.Worker, now + b.Lease, now),
        RuntimeCommand.RecordOutcome r => new ExecutionCommand.RecordOutcome(r.StepId, r.Attempt, r.Outcome, r.Worker, now),
        RuntimeCommand.Wake w => new ExecutionCommand.Wake(w.StepId, w.Attempt, now),
        RuntimeCommand.Timeout => new ExecutionCommand.Timeout(now),
        RuntimeCommand.Cancel c => new ExecutionCommand.Cancel(c.Reason, now),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command, "Unknown runtime command."),
    };

    /// <summary>The events after <paramref name="knownRevision"/> up to the execution's current revision, and its view there.</summary>
    private async Task<RuntimeSync?> ReadAfterAsync(string executionId, long knownRevision, CancellationToken cancellationToken)
    {
        var loaded = await store.LoadAsync(executionId, cancellationToken).ConfigureAwait(false);
        if (loaded is null) return null;
        var stream = ExecutionEventTypes.StreamFor(executionId);
        var result = new List<IEvent>();
        var revision = knownRevision;
        while (revision < loaded.Revision)
        {
            var page = await events.ReadStreamAsync(stream, ReadDirection.Forward, revision + 1, PageSize, cancellationToken).ConfigureAwait(false);
            foreach (var e in page)
            {
                if (e.Revision > loaded.Revision) break;
                result.Add((IEvent)serializer.Deserialize(e));
                revision = e.Revision;
            }

            if (page.Count < PageSize) break;
        }

        return new RuntimeSync(executionId, loaded.Revision, result, View(loaded));
    }

    private RuntimeView View(LoadedExecution loaded)
    {
        var state = loaded.State;
        var steps = new List<RuntimeStep>();
        foreach (var planned in loaded.Decider.Plan.Steps)
        {
            if (!state.Steps.TryGetValue(planned.Id, out var step) || !step.IsActive) continue;
            var timeout = attempts.TimeoutOf(planned);
            var lease = attempts.LeaseUntil(DateTimeOffset.UnixEpoch, timeout) - DateTimeOffset.UnixEpoch;
            var retry = planned.Retry;
            steps.Add(new RuntimeStep(step.Id, StatusName(step.Status), step.Attempt, Math.Max(1, retry.MaxAttempts - (step.Attempt - step.AttemptBase) + 1),
                step.Status is StepStatus.RetryWaiting or StepStatus.Sleeping ? step.DueAt : null,
                step.Status == StepStatus.Running ? step.LeaseUntil : null, timeout.TotalSeconds, lease.TotalSeconds,
                new RuntimeRetryPolicy(retry.MaxAttempts, retry.InitialIntervalSeconds, retry.BackoffCoefficient, retry.MaxIntervalSeconds,
                    [.. retry.NonRetryableErrors.Order(StringComparer.Ordinal)])));
        }

        return new RuntimeView(loaded.Revision, state.Status.ToString().ToLowerInvariant(), state.TimeoutAt, steps);
    }

    private static string StatusName(StepStatus status) => status switch
    {
        StepStatus.Scheduled => "scheduled",
        StepStatus.Running => "running",
        StepStatus.RetryWaiting => "retry_waiting",
        StepStatus.Sleeping => "sleeping",
        _ => status.ToString().ToLowerInvariant(),
    };
}
