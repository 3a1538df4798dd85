using Temporalio.Workflows;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Temporal.Workflows;

namespace Triggers.Modular.Temporal.Tests;

/// <summary>The execution workflow as a careless change would leave it: the same name, the same first decision, then a timer
/// before anything else — the replay of a history recorded by the real workflow must fail on it.</summary>
[Workflow("executions.execution")]
internal sealed class ChangedExecutionWorkflow
{
    [WorkflowRun]
    public async Task<string> RunAsync(ExecutionRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var request = new DecideRequest(run.ExecutionId, DecideRequest.Sync, -1);
        var view = await Workflow.ExecuteActivityAsync((ExecutionActivities a) => a.DecideAsync(request),
            new ActivityOptions { StartToCloseTimeout = TimeSpan.FromMinutes(1) });
        await Workflow.DelayAsync(TimeSpan.FromSeconds(1));
        return view?.Status ?? "not_found";
    }
}
