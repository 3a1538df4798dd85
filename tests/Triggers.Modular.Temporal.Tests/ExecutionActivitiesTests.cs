using Microsoft.Extensions.DependencyInjection;
using Temporalio.Exceptions;
using Temporalio.Testing;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Executions;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Temporal.Workflows;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;

namespace Triggers.Modular.Temporal.Tests;

/// <summary>The step activity's contract with Temporal: how a failed attempt, a failure that ends the execution and an
/// attempt not yet due come back to Temporal's retry policy.</summary>
public sealed class ExecutionActivitiesTests
{
    private static async Task<(ExecutionActivities Activities, IExecutionRuntimePort Port, string ExecutionId)> StartAsync(ApiHost host, string steps)
    {
        var api = await TemporalTestHosts.ClientAsync(host);
        var execution = await TriggerAsync(api, await CreateDefinitionAsync(api, steps));
        return (TemporalTestHosts.Activities(host), host.Services.GetRequiredService<IExecutionRuntimePort>(), execution);
    }

    /// <summary>A try of the step's activity with the options the workflow schedules it with (start-to-close = lease + 5 s).</summary>
    private static ActivityEnvironment Environment(RuntimeView view, string stepId) => new()
    {
        Info = ActivityEnvironment.DefaultInfo with
        {
            ActivityId = "1", StartedTime = DateTime.UtcNow,
            StartToCloseTimeout = ExecutionWorkflow.StepOptions(view.ActiveSteps.Single(s => s.StepId == stepId), default).StartToCloseTimeout,
        },
    };

    [Fact]
    public async Task A_retryable_failure_fails_the_activity_with_the_code_and_the_decided_back_off_and_a_final_one_is_not_retryable()
    {
        await using var host = await TemporalTestHosts.StartAsync(StoreKind.Sqlite, new StepProbe(), embedded: false);
        var (activities, port, execution) = await StartAsync(host, """
            [ { "id": "a", "type": "flaky", "config": { "failures": 1 },
                "retry_policy": { "max_attempts": 2, "initial_interval_seconds": 7, "max_interval_seconds": 60 } },
              { "id": "b", "type": "fail" } ]
            """);
        var start = (await port.DecideAsync(execution, null, -1))!.View;

        var first = await Assert.ThrowsAsync<ApplicationFailureException>(() =>
            Environment(start, "a").RunAsync(() => activities.RunStepAsync(new RunStepRequest(execution, "a", 1, -1))));
        Assert.Equal("flaky_error", first.ErrorType);
        Assert.False(first.NonRetryable);
        Assert.InRange(first.NextRetryDelay!.Value, TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(7)); // to StepRetryScheduled.DueAt
        var afterFirst = first.Details.ElementAt<RuntimeView>(0);
        var waiting = Assert.Single(afterFirst.ActiveSteps);
        Assert.Equal(("a", "retry_waiting", 2, 1), (waiting.StepId, waiting.Status, waiting.Attempt, waiting.AttemptsLeft));

        // Before its back-off is over, a try is told when (more than the 5 s its timeout leaves it to wait in the activity).
        var early = await Assert.ThrowsAsync<ApplicationFailureException>(() =>
            Environment(afterFirst, "a").RunAsync(() => activities.RunStepAsync(new RunStepRequest(execution, "a", 2, -1))));
        Assert.Equal(ExecutionActivities.StepNotDue, early.ErrorType);
        Assert.InRange(early.NextRetryDelay!.Value, TimeSpan.FromSeconds(5.1), TimeSpan.FromSeconds(7));

        await Task.Delay(early.NextRetryDelay.Value);
        var done = await Environment(afterFirst, "a").RunAsync(() => activities.RunStepAsync(new RunStepRequest(execution, "a", 2, -1)));
        Assert.Equal(("b", "scheduled"), (done!.ActiveSteps.Single().StepId, done.ActiveSteps.Single().Status));

        var last = await Assert.ThrowsAsync<ApplicationFailureException>(() =>
            Environment(done, "b").RunAsync(() => activities.RunStepAsync(new RunStepRequest(execution, "b", 1, done.Revision))));
        Assert.Equal("bad_input", last.ErrorType);
        Assert.True(last.NonRetryable);
        Assert.Equal("failed", last.Details.ElementAt<RuntimeView>(0).Status);
    }

    [Fact]
    public async Task An_attempt_held_by_another_worker_is_waited_for_only_within_the_activitys_budget()
    {
        await using var host = await TemporalTestHosts.StartAsync(StoreKind.Sqlite, new StepProbe(), embedded: false);
        var (activities, port, execution) = await StartAsync(host, """[ { "id": "a", "type": "flaky" } ]""");
        var held = (await port.DecideAsync(execution, new RuntimeCommand.BeginAttempt("a", 1, "dead-worker", TimeSpan.FromSeconds(20)), -1))!;
        Assert.Equal("running", held.View.ActiveSteps.Single().Status);

        var refused = await Assert.ThrowsAsync<ApplicationFailureException>(() =>
            Environment(held.View, "a").RunAsync(() => activities.RunStepAsync(new RunStepRequest(execution, "a", 1, -1))));

        Assert.Equal(ExecutionActivities.StepNotDue, refused.ErrorType);
        Assert.False(refused.NonRetryable);
        Assert.InRange(refused.NextRetryDelay!.Value, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(20)); // to the lease's end
        Assert.Equal("running", refused.Details.ElementAt<RuntimeView>(0).ActiveSteps.Single().Status);
    }
}
