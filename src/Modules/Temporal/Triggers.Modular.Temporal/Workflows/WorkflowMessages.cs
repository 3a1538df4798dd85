using System.Text.Json;

namespace Triggers.Modular.Temporal.Workflows;

// The workflow's and activities' arguments and results, as Temporal stores them in a history (System.Text.Json, the SDK's
// default converter: PascalCase names). Renaming a property breaks the replay of histories already recorded: add, don't rename.

/// <summary>The workflow's argument: the execution (= the workflow id), the definition version it runs and the trigger's
/// input — as recorded by <c>ExecutionStarted</c>, which stays the source of truth; a run continued as new carries no
/// input (<see cref="Trigger"/> null) and <see cref="Continued"/> counts the runs before it. <see cref="ContinueAsNewAfter"/>:
/// the history length at which a run continues as new (0: <see cref="ExecutionWorkflow.ContinueAsNewAfterEvents"/>).</summary>
internal sealed record ExecutionRun(string ExecutionId, string WorkflowId, int WorkflowVersion, JsonElement? Trigger, int Continued = 0,
    int ContinueAsNewAfter = 0)
{
    public int HistoryLimit => ContinueAsNewAfter > 0 ? ContinueAsNewAfter : ExecutionWorkflow.ContinueAsNewAfterEvents;
}

/// <summary>A decision the workflow asks for: <c>sync</c> (none, only read), <c>wake</c> (a sleeping step's time has
/// come), <c>timeout</c> (the whole-execution deadline passed), <c>cancel</c> (Temporal cancelled the workflow).</summary>
internal sealed record DecideRequest(string ExecutionId, string Command, long KnownRevision, string? StepId = null, int Attempt = 0, string? Reason = null)
{
    public const string Sync = "sync";
    public const string Wake = "wake";
    public const string Timeout = "timeout";
    public const string Cancel = "cancel";
}

/// <summary>Run the step's due attempt (the activity finds which: scheduled, after its back-off, or delivered again).</summary>
internal sealed record RunStepRequest(string ExecutionId, string StepId, int Attempt, long KnownRevision);
