using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.Executions.Contracts.Steps;

namespace Triggers.Modular.Executions.Contracts;

/// <summary>
/// A decision a runtime other than the embedded one (the Temporal workflow, docs/adr/0017) asks the Executions module to
/// make on an execution. The module decides it with the execution's own decider, the time taken from its clock — exactly as
/// the embedded runtime would —, so the events recorded are the same whichever runtime drives the execution.
/// </summary>
public abstract record RuntimeCommand
{
    private RuntimeCommand()
    {
    }

    /// <summary>A worker starts attempt <see cref="Attempt"/> of a step; it holds it for <see cref="Lease"/> (the attempt is
    /// delivered again after that if no outcome was recorded).</summary>
    public sealed record BeginAttempt(string StepId, int Attempt, string Worker, TimeSpan Lease) : RuntimeCommand;

    /// <summary>How the attempt ended, from the worker that began it.</summary>
    public sealed record RecordOutcome(string StepId, int Attempt, StepOutcome Outcome, string Worker) : RuntimeCommand;

    /// <summary>A sleeping step's time has come.</summary>
    public sealed record Wake(string StepId, int Attempt) : RuntimeCommand;

    /// <summary>The whole-execution deadline may have passed.</summary>
    public sealed record Timeout : RuntimeCommand;

    /// <summary>Cancel the execution (nothing happens to one that already finished).</summary>
    public sealed record Cancel(string? Reason) : RuntimeCommand;
}

/// <summary>The execution's events after the caller's known revision, and the revision they end at (-1: none yet).</summary>
public sealed record RuntimeSync(string ExecutionId, long Revision, IReadOnlyList<IEvent> Events);

/// <summary>
/// The Executions module as a runtime sees it: decide one <see cref="RuntimeCommand"/> and return every event recorded after
/// <c>knownRevision</c> — also those another writer appended (a cancel through the API), and those an earlier try of the
/// same call appended before its answer was lost: a command decided again decides nothing (the decider treats it as stale),
/// so calling again is safe and answers the same events.
/// </summary>
public interface IExecutionRuntimePort
{
    /// <summary>Decides <paramref name="command"/> (none: only reads) and returns the events after
    /// <paramref name="knownRevision"/>; null when the execution does not exist.</summary>
    Task<RuntimeSync?> DecideAsync(string executionId, RuntimeCommand? command, long knownRevision, CancellationToken cancellationToken = default);

    /// <summary>Runs attempt <paramref name="attempt"/> of a step in this process, as the embedded runtime would: begins it
    /// (nothing more when it is not due or another worker holds it), runs the step type's handler under the step's timeout,
    /// records the outcome; returns the events after <paramref name="knownRevision"/>, null when the execution does not
    /// exist. Cancelling abandons the attempt: no outcome is recorded, and its lease runs out.</summary>
    Task<RuntimeSync?> RunStepAsync(string executionId, string stepId, int attempt, string worker, long knownRevision,
        CancellationToken cancellationToken = default);
}
