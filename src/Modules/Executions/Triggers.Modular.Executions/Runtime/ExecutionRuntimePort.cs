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
        {
            var planned = loaded.Decider.Plan.Step(stepId);
            var timeout = attempts.TimeoutOf(planned);
            var metadata = loaded.RuntimeMetadata;
            var begin = await store.DecideAsync(executionId, () => new ExecutionCommand.BeginAttempt(stepId, attempt, worker,
                attempts.LeaseUntil(clock.GetUtcNow(), timeout), clock.GetUtcNow()), metadata, current: loaded,
                maxAttempts: 500, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (begin is not null && begin.Events.OfType<StepStarted>().Any(s => s.StepId == stepId && s.Attempt == attempt))
            {
                var step = StepAttempts.Context(begin.State, loaded.Decider.Plan, planned, attempt, clock.GetUtcNow(), timeout);
                if (await attempts.InvokeAsync(planned, step, timeout, cancellationToken).ConfigureAwait(false) is { } outcome)
                    await RecordAsync(executionId, stepId, attempt, worker, attempts.CapOutput(outcome).Outcome, metadata, begin.AsLoaded()).ConfigureAwait(false);
            }
        }

        return await ReadAfterAsync(executionId, knownRevision, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records an outcome with its own deadline (not the caller's token: the attempt ran, its outcome is kept); an
    /// outcome the store refuses (too large) fails the step — as the embedded runtime does.</summary>
    private async Task RecordAsync(string executionId, string stepId, int attempt, string worker, StepOutcome outcome, EventMetadata metadata,
        LoadedExecution current)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await store.DecideAsync(executionId, () => new ExecutionCommand.RecordOutcome(stepId, attempt, outcome, worker, clock.GetUtcNow()),
                metadata, current: current, maxAttempts: 500, cancellationToken: deadline.Token).ConfigureAwait(false);
        }
        catch (InvalidAppendException ex)
        {
            var failed = StepOutcome.NonRetryableError("outcome_not_recorded", $"The step's outcome could not be recorded: {ex.Message}");
            await store.DecideAsync(executionId, () => new ExecutionCommand.RecordOutcome(stepId, attempt, failed, worker, clock.GetUtcNow()),
                metadata, maxAttempts: 500, cancellationToken: deadline.Token).ConfigureAwait(false);
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

    private async Task<RuntimeSync?> ReadAfterAsync(string executionId, long knownRevision, CancellationToken cancellationToken)
    {
        var stream = ExecutionEventTypes.StreamFor(executionId);
        var result = new List<IEvent>();
        var revision = knownRevision;
        while (true)
        {
            var page = await events.ReadStreamAsync(stream, ReadDirection.Forward, revision + 1, PageSize, cancellationToken).ConfigureAwait(false);
            foreach (var e in page)
            {
                result.Add((IEvent)serializer.Deserialize(e));
                revision = e.Revision;
            }

            if (page.Count < PageSize) break;
        }

        if (revision < 0 && await events.ReadStreamAsync(stream, ReadDirection.Backward, long.MaxValue, 1, cancellationToken).ConfigureAwait(false) is { Count: 0 })
            return null;
        return new RuntimeSync(executionId, revision, result);
    }
}
