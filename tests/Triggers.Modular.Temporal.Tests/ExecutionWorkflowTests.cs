using System.Text.Json;
using Temporalio.Exceptions;
using Temporalio.Worker;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Executions;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Temporal.Workflows;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;

namespace Triggers.Modular.Temporal.Tests;

/// <summary>
/// The Temporal runtime without a server (issue 10, docs/adr/0017). For each scenario: the embedded runtime runs the
/// definition (the reference); <see cref="WorkflowDriver"/> plays Temporal for the workflow against a host that runs nothing
/// itself, its activities recording into that host's store, and writes the history a server would have; then
/// (1) the execution's events are the embedded runtime's (decider parity), (2) <c>WorkflowReplayer</c> replays that history
/// with the real workflow code without a nondeterminism error, (3) the workflow asked for the same activities with the same
/// arguments (replay does not compare arguments: an interceptor captures them), and (4) a changed workflow fails the replay.
/// </summary>
public sealed class ExecutionWorkflowTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public static TheoryData<StoreKind> Stores => new() { StoreKind.Sqlite, StoreKind.Postgres };

    [Theory]
    [MemberData(nameof(Stores))]
    public Task Three_steps_succeed(StoreKind kind) => ScenarioAsync(kind, """
        [ { "id": "a", "type": "flaky" }, { "id": "b", "type": "flaky" }, { "id": "c", "type": "flaky" } ]
        """, "", "completed");

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_retry_then_success(StoreKind kind)
    {
        var (driver, _) = await ScenarioAsync(kind, """
            [ { "id": "a", "type": "flaky", "config": { "failures": 1 } }, { "id": "b", "type": "flaky" } ]
            """, "", "completed");

        // Temporal retried step a's activity (the failure carried the decider's back-off), it was not rescheduled.
        var runs = driver.Scheduled.Where(s => s.Type == "executions.run_step").Select(s => ((RunStepRequest)s.Argument).StepId).ToList();
        Assert.Equal(["a", "b"], runs);
        Assert.Equal(2, driver.Attempts.Values.Max());
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public Task A_non_retryable_failure(StoreKind kind) => ScenarioAsync(kind, """
        [ { "id": "a", "type": "flaky" }, { "id": "b", "type": "fail" }, { "id": "c", "type": "flaky" } ]
        """, "", "failed");

    [Theory]
    [MemberData(nameof(Stores))]
    public Task The_whole_execution_times_out(StoreKind kind) => ScenarioAsync(kind, """
        [ { "id": "a", "type": "flaky" }, { "id": "b", "type": "slow", "config": { "gate": "never" } } ]
        """, "\"timeout_seconds\": 1", "failed");

    [Theory]
    [MemberData(nameof(Stores))]
    public Task Parallel_steps(StoreKind kind) => ScenarioAsync(kind, """
        [ { "id": "a", "type": "flaky" },
          { "id": "b", "type": "flaky", "depends_on": ["a"] },
          { "id": "c", "type": "flaky", "depends_on": ["a"] },
          { "id": "d", "type": "flaky", "depends_on": ["b", "c"] } ]
        """, "", "completed");

    [Theory]
    [MemberData(nameof(Stores))]
    public Task A_delay_sleeps_on_a_durable_timer(StoreKind kind) => ScenarioAsync(kind, """
        [ { "id": "a", "type": "flaky" }, { "id": "wait", "type": "delay", "config": { "seconds": 1 } }, { "id": "b", "type": "flaky" } ]
        """, "", "completed");

    [Theory]
    [MemberData(nameof(Stores))]
    public Task A_cancel(StoreKind kind) => ScenarioAsync(kind, """
        [ { "id": "a", "type": "flaky" }, { "id": "b", "type": "slow" }, { "id": "c", "type": "flaky" } ]
        """, "", "cancelled", cancelWhenEntered: "b");

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_long_run_continues_as_new_and_the_next_run_carries_on(StoreKind kind)
    {
        var (driver, _) = await ScenarioAsync(kind, """
            [ { "id": "a", "type": "flaky" }, { "id": "b", "type": "flaky", "config": { "failures": 1 } }, { "id": "c", "type": "flaky" },
              { "id": "d", "type": "flaky" }, { "id": "e", "type": "flaky" }, { "id": "f", "type": "flaky" } ]
            """, "", "completed", continueAsNewAfter: 20);

        Assert.True(driver.Runs.Count >= 3, $"{driver.Runs.Count} runs");
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_failed_execution_retried_through_the_api_runs_again_in_a_new_workflow_run(StoreKind kind)
    {
        const string Steps = """[ { "id": "a", "type": "flaky" }, { "id": "b", "type": "toggle" }, { "id": "c", "type": "flaky" } ]""";
        var probe = new StepProbe();
        var reference = await RetriedReferenceAsync(kind, probe, Steps);

        await using var host = await TemporalTestHosts.StartAsync(kind, probe, embedded: false);
        var api = await TemporalTestHosts.ClientAsync(host);
        var workflowId = await CreateDefinitionAsync(api, Steps);
        var execution = await TriggerAsync(api, workflowId, new { who = "ada" });
        var input = new ExecutionRun(execution, workflowId, 1, JsonSerializer.SerializeToElement(new { who = "ada" }));
        var first = new WorkflowDriver(TemporalTestHosts.Activities(host), execution);
        Assert.Equal("failed", await first.RunAsync(input, Limit));
        probe.Allow(execution);
        await RetryAsync(api, execution); // ExecutionRetried: the dispatcher starts a new run under the same id
        var second = new WorkflowDriver(TemporalTestHosts.Activities(host), execution);
        Assert.Equal("completed", await second.RunAsync(input, Limit, resyncSignal: true));

        Assert.Equal(reference, await TemporalTestHosts.EventsAsync(api, execution));
        Assert.Contains("executions.execution_retried", reference);
        await AssertReplaysAsync([first, second]);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_retry_while_the_failed_run_is_still_open_is_picked_up_by_that_run_instead_of_ending_it(StoreKind kind)
    {
        const string Steps = """[ { "id": "a", "type": "flaky" }, { "id": "b", "type": "toggle" }, { "id": "c", "type": "flaky" } ]""";
        var probe = new StepProbe();
        var reference = await RetriedReferenceAsync(kind, probe, Steps);

        await using var host = await TemporalTestHosts.StartAsync(kind, probe, embedded: false);
        var api = await TemporalTestHosts.ClientAsync(host);
        var workflowId = await CreateDefinitionAsync(api, Steps);
        var execution = await TriggerAsync(api, workflowId, new { who = "ada" });
        var driver = new WorkflowDriver(TemporalTestHosts.Activities(host), execution);
        // The execution fails, is retried through the API, and the dispatcher's signal reaches the run before it ends.
        driver.BeforeEnd(async () =>
        {
            probe.Allow(execution);
            await RetryAsync(api, execution);
            return true;
        });

        Assert.Equal("completed", await driver.RunAsync(new ExecutionRun(execution, workflowId, 1, null), Limit));
        Assert.Equal(reference, await TemporalTestHosts.EventsAsync(api, execution));
        await AssertReplaysAsync([driver]);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_retry_picked_up_by_the_open_run_stops_what_the_failure_stopped_and_runs_the_retried_steps_afresh(StoreKind kind)
    {
        // a, then c beside a one-second delay d and b after it: b fails the execution while c's handler still runs.
        const string Steps = """
            [ { "id": "a", "type": "flaky" }, { "id": "c", "type": "slow", "depends_on": ["a"] },
              { "id": "d", "type": "delay", "depends_on": ["a"], "config": { "seconds": 1 } }, { "id": "b", "type": "toggle", "depends_on": ["d"] } ]
            """;
        var probe = new StepProbe();
        var reference = await RetriedReferenceAsync(kind, probe, Steps, cancelled: "c");

        await using var host = await TemporalTestHosts.StartAsync(kind, probe, embedded: false);
        var api = await TemporalTestHosts.ClientAsync(host);
        var workflowId = await CreateDefinitionAsync(api, Steps);
        var execution = await TriggerAsync(api, workflowId, new { who = "ada" });
        var driver = new WorkflowDriver(TemporalTestHosts.Activities(host), execution);
        driver.BeforeEnd(async () =>
        {
            await probe.WaitEnteredAsync(execution, "c");
            probe.Allow(execution);
            await RetryAsync(api, execution);
            return true;
        });
        var running = driver.RunAsync(new ExecutionRun(execution, workflowId, 1, null), Limit);

        await probe.WaitCancelledAsync(execution, "c"); // the run cancelled c's activity before reading the execution again
        probe.Release(execution);
        Assert.Equal("completed", await running);

        Assert.Equal(TemporalTestHosts.PerStep(reference), TemporalTestHosts.PerStep(await TemporalTestHosts.EventsAsync(api, execution)));
        Assert.Equal(2, probe.Calls(execution, "c"));
        await AssertReplaysAsync([driver]);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_worker_dying_on_the_last_try_of_an_attempt_has_the_workflow_wait_for_its_lease_then_deliver_it_again(StoreKind kind)
    {
        var probe = new StepProbe();
        await using var host = await TemporalTestHosts.StartAsync(kind, probe, embedded: false);
        var api = await TemporalTestHosts.ClientAsync(host);
        var workflowId = await CreateDefinitionAsync(api, """
            [ { "id": "a", "type": "flaky" }, { "id": "b", "type": "slow", "timeout_seconds": 2, "retry_policy": { "max_attempts": 1 } } ]
            """);
        var execution = await TriggerAsync(api, workflowId, new { who = "ada" });
        var driver = new WorkflowDriver(TemporalTestHosts.Activities(host), execution);
        var running = driver.RunAsync(new ExecutionRun(execution, workflowId, 1, null), Limit);

        await probe.WaitEnteredAsync(execution, "b");
        driver.Kill("b"); // Temporal may not try this activity again (one attempt): it times out
        await probe.WaitCancelledAsync(execution, "b");
        probe.Release(execution);
        Assert.Equal("completed", await running);

        var events = await TemporalTestHosts.EventsAsync(api, execution);
        Assert.Equal(["executions.step_scheduled b#1", "executions.step_started b#1", "executions.step_started b#1", "executions.step_completed b#1"],
            events.Where(e => e.Contains(" b#", StringComparison.Ordinal)));
        // The workflow read the execution again, waited on a timer for the lease, and ran the step in a new activity: once.
        Assert.Equal(2, driver.Scheduled.Count(s => s.Type == "executions.run_step" && ((RunStepRequest)s.Argument).StepId == "b"));
        Assert.Equal(2, driver.Scheduled.Count(s => s.Type == "executions.decide" && ((DecideRequest)s.Argument).Command == DecideRequest.Sync));
        var timer = Assert.Single(driver.Timers);
        Assert.InRange(timer, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(3.5)); // to the lease's end (2 s timeout + 1 s grace)
        await AssertReplaysAsync([driver]);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_worker_dying_mid_attempt_has_the_same_attempt_delivered_again_once_its_lease_is_over(StoreKind kind)
    {
        var probe = new StepProbe();
        await using var host = await TemporalTestHosts.StartAsync(kind, probe, embedded: false);
        var api = await TemporalTestHosts.ClientAsync(host);
        var workflowId = await CreateDefinitionAsync(api, """[ { "id": "a", "type": "flaky" }, { "id": "b", "type": "slow", "timeout_seconds": 2 } ]""");
        var execution = await TriggerAsync(api, workflowId, new { who = "ada" });
        var driver = new WorkflowDriver(TemporalTestHosts.Activities(host), execution);
        var running = driver.RunAsync(new ExecutionRun(execution, workflowId, 1, null), Limit);

        await probe.WaitEnteredAsync(execution, "b");
        driver.Kill("b");
        await probe.WaitCancelledAsync(execution, "b");
        probe.Release(execution);
        Assert.Equal("completed", await running);

        var events = await TemporalTestHosts.EventsAsync(api, execution);
        Assert.Equal(["executions.step_scheduled b#1", "executions.step_started b#1", "executions.step_started b#1", "executions.step_completed b#1"],
            events.Where(e => e.Contains(" b#", StringComparison.Ordinal)));
        var workers = (await HistoryAsync(api, execution))["events"]!.AsArray()
            .Where(e => Str(e!["type"]) == ExecutionEventTypes.StepStarted && Str(e["data"]!["step_id"]) == "b")
            .Select(e => Str(e!["data"]!["worker"])).ToList();
        Assert.Equal(2, workers.Distinct().Count()); // delivered again to Temporal's next try of the activity
        Assert.Equal(2, probe.Calls(execution, "b"));
        Assert.Equal(2, driver.Attempts.Values.Max());
        await AssertReplaysAsync([driver]);
    }

    /// <summary>The embedded runtime's events for <paramref name="steps"/>: failed (once <paramref name="cancelled"/>'s
    /// handler was stopped, when given), allowed, retried through the API (gates released), completed.</summary>
    private static async Task<string[]> RetriedReferenceAsync(StoreKind kind, StepProbe probe, string steps, string? cancelled = null)
    {
        await using var embedded = await TemporalTestHosts.StartAsync(kind, probe, embedded: true);
        var client = await TemporalTestHosts.ClientAsync(embedded);
        var run = await TriggerAsync(client, await CreateDefinitionAsync(client, steps), new { who = "ada" });
        await WaitForStatusAsync(client, run, "failed");
        if (cancelled is not null) await probe.WaitCancelledAsync(run, cancelled);
        probe.Allow(run);
        await RetryAsync(client, run);
        probe.Release(run);
        await WaitForStatusAsync(client, run, "completed");
        return await TemporalTestHosts.EventsAsync(client, run);
    }

    private static async Task RetryAsync(HttpClient client, string executionId)
    {
        var response = await client.PostAsync(EndToEnd.Tests.Support.Http.Url($"{ExecutionsRoute}/{executionId}/retry"), null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_changed_workflow_fails_the_replay_of_a_recorded_history()
    {
        var (driver, _) = await ScenarioAsync(StoreKind.Sqlite, """
            [ { "id": "a", "type": "flaky" }, { "id": "b", "type": "flaky", "config": { "failures": 1 } } ]
            """, "", "completed");

        var replayer = new WorkflowReplayer(new WorkflowReplayerOptions().AddWorkflow<ChangedExecutionWorkflow>());
        var result = await replayer.ReplayWorkflowAsync(driver.WorkflowHistory, throwOnReplayFailure: false);

        Assert.IsType<WorkflowNondeterminismException>(result.ReplayFailure);
    }

    /// <summary>Runs the scenario on both runtimes and checks the four points; returns the driver and the execution id.</summary>
    private static async Task<(WorkflowDriver Driver, string ExecutionId)> ScenarioAsync(StoreKind kind, string steps, string extra, string expected,
        string? cancelWhenEntered = null, int continueAsNewAfter = 0)
    {
        var probe = new StepProbe();
        var reference = await TemporalTestHosts.EmbeddedReferenceAsync(kind, probe, steps, extra, expected, cancelWhenEntered);

        await using var host = await TemporalTestHosts.StartAsync(kind, probe, embedded: false);
        var api = await TemporalTestHosts.ClientAsync(host);
        var workflowId = await CreateDefinitionAsync(api, steps, extra);
        var execution = await TriggerAsync(api, workflowId, new { who = "ada" });
        var driver = new WorkflowDriver(TemporalTestHosts.Activities(host), execution);
        var input = new ExecutionRun(execution, workflowId, 1, JsonSerializer.SerializeToElement(new { who = "ada" }), ContinueAsNewAfter: continueAsNewAfter);
        var running = RunAllAsync(driver, input);
        if (cancelWhenEntered is not null)
        {
            await probe.WaitEnteredAsync(execution, cancelWhenEntered);
            await TemporalTestHosts.CancelAsync(api, execution); // the endpoint records the cancel; its dispatcher then cancels the workflow
            driver.RequestCancel();
        }

        var ended = await running;
        driver.Runs.Insert(0, driver); // (the first run's driver also lists the later ones)
        var events = await TemporalTestHosts.EventsAsync(api, execution);

        // (1) the same events as the embedded runtime
        Assert.Equal(expected, ended);
        Assert.Equal(TemporalTestHosts.PerStep(reference), TemporalTestHosts.PerStep(events));
        if (!steps.Contains("depends_on", StringComparison.Ordinal)) Assert.Equal(reference, events);
        Assert.Equal(expected, Str((await GetAsync(api, execution))["status"]));

        // (2) the workflow code replays the history, (3) asking for the same activities with the same arguments
        await AssertReplaysAsync(driver.Runs);
        Assert.Equal(continueAsNewAfter > 0, driver.Runs.Count > 1);
        return (driver, execution);
    }

    /// <summary>Each run's recorded history replays with the workflow code, which asks for the same activities with the same
    /// arguments as the driver did.</summary>
    private static async Task AssertReplaysAsync(IEnumerable<WorkflowDriver> runs)
    {
        foreach (var run in runs)
        {
            var capture = new CaptureActivities();
            var replayer = new WorkflowReplayer(new WorkflowReplayerOptions { Interceptors = [capture] }.AddWorkflow<ExecutionWorkflow>());
            var replay = await replayer.ReplayWorkflowAsync(run.WorkflowHistory, throwOnReplayFailure: false);
            Assert.Null(replay.ReplayFailure);
            Assert.Equal(run.Scheduled.Select(s => $"{s.Type} {JsonSerializer.Serialize(s.Argument)}"),
                capture.Scheduled.Select(s => $"{s.Activity} {JsonSerializer.Serialize(s.Argument)}"));
        }
    }

    /// <summary>Runs the workflow to its end, through every run it continues as new into.</summary>
    private static async Task<string> RunAllAsync(WorkflowDriver first, ExecutionRun input)
    {
        var driver = first;
        while (true)
        {
            var result = await driver.RunAsync(input, Limit);
            if (result != "continued") return result;
            input = driver.Next!;
            driver = new WorkflowDriver(driver.Activities, input.ExecutionId);
            first.Runs.Add(driver);
        }
    }

}
