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

/// <summary>The execution's events after the caller's known revision, the revision they end at (-1: none yet), and what a
/// runtime needs to drive it from there (<see cref="View"/>).</summary>
public sealed record RuntimeSync(string ExecutionId, long Revision, IReadOnlyList<IEvent> Events, RuntimeView View);

/// <summary>
/// An execution as a runtime drives it, at <see cref="Revision"/>: its status (<c>pending</c>, <c>running</c>,
/// <c>completed</c>, <c>failed</c>, <c>cancelled</c>), its deadline, and its active steps — the ones holding one of its
/// parallel slots (at most 16), in plan order. Small on purpose: a Temporal workflow keeps it in its history after every
/// decision.
/// </summary>
public sealed record RuntimeView(long Revision, string Status, DateTimeOffset? TimeoutAt, IReadOnlyList<RuntimeStep> ActiveSteps)
{
    public bool IsTerminal => Status is "completed" or "failed" or "cancelled";
}

/// <summary>
/// An active step: <see cref="Status"/> <c>scheduled</c> (attempt <see cref="Attempt"/> may begin now), <c>running</c>
/// (a worker holds it until <see cref="LeaseUntil"/>), <c>retry_waiting</c> (attempt <see cref="Attempt"/> may begin at
/// <see cref="DueAt"/>) or <c>sleeping</c> (it completes at <see cref="DueAt"/>). <see cref="AttemptsLeft"/> counts the
/// current attempt; <see cref="LeaseSeconds"/> is how long an attempt may hold the step (its timeout plus the grace).
/// </summary>
public sealed record RuntimeStep(string StepId, string Status, int Attempt, int AttemptsLeft, DateTimeOffset? DueAt, DateTimeOffset? LeaseUntil,
    double TimeoutSeconds, double LeaseSeconds, RuntimeRetryPolicy Retry);

/// <summary>A step's retry policy (<c>retry</c> in the definition; error codes in <see cref="NonRetryableErrors"/> fail the
/// step at once).</summary>
public sealed record RuntimeRetryPolicy(int MaxAttempts, double InitialIntervalSeconds, double BackoffCoefficient, double MaxIntervalSeconds,
    IReadOnlyList<string> NonRetryableErrors);

/// <summary>What <see cref="IExecutionRuntimePort.RunDueStepAsync"/> did: ran <see cref="Attempt"/> with
/// <see cref="Outcome"/> (the outcome as recorded, or refused when the execution moved on meanwhile), or nothing — because
/// the step's attempt is not due before <see cref="NotBefore"/> (a retry back-off, another worker's lease), or because the
/// step is not runnable (finished, sleeping, not scheduled).</summary>
public sealed record StepRun(RuntimeSync Sync, int? Attempt, StepOutcome? Outcome, DateTimeOffset? NotBefore);

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

    /// <summary>Runs the step's current attempt if it is due — scheduled, its retry back-off over, or delivered again because
    /// the worker that held it let its lease run out — as <see cref="RunStepAsync"/> does; otherwise runs nothing and says
    /// from when it will be due (<see cref="StepRun.NotBefore"/>). Null when the execution does not exist.</summary>
    Task<StepRun?> RunDueStepAsync(string executionId, string stepId, string worker, long knownRevision, CancellationToken cancellationToken = default);
}
