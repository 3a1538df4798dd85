using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Executions;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Temporal.Dispatch;
using Triggers.Modular.Temporal.Workflows;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;

namespace Triggers.Modular.Temporal.Tests;

/// <summary>A test that needs a real Temporal server: it runs when <c>TEMPORAL_ADDRESS</c> (host:port) is set.</summary>
public sealed class LiveTemporalFactAttribute : FactAttribute
{
    public LiveTemporalFactAttribute()
    {
        if (string.IsNullOrEmpty(LiveTemporalTests.Address))
            Skip = "TEMPORAL_ADDRESS is not set: no Temporal server to run against (no server can run on the build machines; docker compose up temporal, then TEMPORAL_ADDRESS=localhost:7233)";
    }
}

/// <summary>The host with <c>Executions:Runtime:Mode=temporal</c> against a real server (issue 10): start, a repeated start,
/// cancel, and the events recorded — the embedded runtime's.</summary>
public sealed class LiveTemporalTests
{
    public static string? Address => Environment.GetEnvironmentVariable("TEMPORAL_ADDRESS");

    private static string Namespace => Environment.GetEnvironmentVariable("TEMPORAL_NAMESPACE") is { Length: > 0 } ns ? ns : "default";

    private static async Task<(ApiHost Host, StepProbe Probe, ITemporalClient Client)> StartAsync(StoreKind kind)
    {
        var probe = new StepProbe();
        var host = await TemporalTestHosts.StartAsync(kind, probe, new Dictionary<string, string?>
        {
            ["Executions:Runtime:Mode"] = "temporal",
            ["Temporal:Address"] = Address,
            ["Temporal:Namespace"] = Namespace,
            ["Temporal:TaskQueue"] = $"tm-test-{Guid.NewGuid():N}", // no other test's worker takes this one's tasks
        });
        return (host, probe, host.Services.GetRequiredService<ITemporalClient>());
    }

    [LiveTemporalFact]
    public async Task Given_the_temporal_runtime_When_an_execution_starts_Then_its_workflow_runs_it_and_records_the_embedded_runtimes_events()
    {
        var (host, _, temporal) = await StartAsync(StoreKind.Postgres);
        await using var _ = host;
        var api = await TemporalTestHosts.ClientAsync(host);
        const string Steps = """[ { "id": "a", "type": "flaky", "config": { "failures": 1 } }, { "id": "b", "type": "flaky" } ]""";
        var reference = await TemporalTestHosts.EmbeddedReferenceAsync(StoreKind.Postgres, new StepProbe(), Steps, "", "completed");
        var workflowId = await CreateDefinitionAsync(api, Steps);
        var execution = await TriggerAsync(api, workflowId, new { who = "ada" });

        await WaitForStatusAsync(api, execution, "completed", seconds: 60);
        var handle = temporal.GetWorkflowHandle<ExecutionWorkflow>(execution);
        var description = await handle.DescribeAsync();
        Assert.Equal(WorkflowExecutionStatus.Completed, description.Status);
        Assert.Equal("completed", await handle.GetResultAsync<string>());
        Assert.Equal("completed", (await handle.QueryAsync(wf => wf.Status()))!.Status);
        Assert.Equal(reference, await TemporalTestHosts.EventsAsync(api, execution));
        Assert.Contains("executions.step_retry_scheduled a#2", reference);

        // A repeated start (the dispatcher handed the same event again): nothing new runs.
        var dispatcher = host.Services.GetRequiredService<WorkflowDispatcher>();
        var started = (await host.Services.GetRequiredService<IEventStore>().ReadStreamAsync(ExecutionEventTypes.StreamFor(execution), ReadDirection.Forward, 0, 1))[0];
        await dispatcher.HandleAsync([started], CancellationToken.None);
        var runs = new List<WorkflowExecution>();
        await foreach (var run in temporal.ListWorkflowsAsync($"WorkflowId = '{execution}'")) runs.Add(run);
        Assert.Single(runs);
        Assert.Equal(reference, await TemporalTestHosts.EventsAsync(api, execution));
    }

    [LiveTemporalFact]
    public async Task Given_a_step_running_on_temporal_When_the_execution_is_cancelled_through_the_api_Then_the_workflow_is_cancelled_and_the_handler_told()
    {
        var (host, probe, temporal) = await StartAsync(StoreKind.Postgres);
        await using var _ = host;
        var api = await TemporalTestHosts.ClientAsync(host);
        const string Steps = """[ { "id": "a", "type": "slow" }, { "id": "b", "type": "flaky" } ]""";
        var reference = await TemporalTestHosts.EmbeddedReferenceAsync(StoreKind.Postgres, new StepProbe(), Steps, "", "cancelled", cancelWhenEntered: "a");
        var execution = await TriggerAsync(api, await CreateDefinitionAsync(api, Steps), new { who = "ada" });
        await probe.WaitEnteredAsync(execution, "a", seconds: 60);

        await TemporalTestHosts.CancelAsync(api, execution);

        await WaitForStatusAsync(api, execution, "cancelled", seconds: 30);
        await probe.WaitCancelledAsync(execution, "a", seconds: 45); // reaches the activity with its next heartbeat
        var status = (await temporal.GetWorkflowHandle(execution).DescribeAsync()).Status;
        Assert.True(status is WorkflowExecutionStatus.Canceled or WorkflowExecutionStatus.Completed, $"workflow status {status}");
        var events = await TemporalTestHosts.EventsAsync(api, execution);
        Assert.Equal(reference, events);
        Assert.Contains("executions.execution_cancelled", events);
        Assert.Equal(1, probe.Calls(execution, "a"));
    }

    [LiveTemporalFact]
    public async Task Given_a_failed_execution_on_temporal_When_it_is_retried_through_the_api_Then_a_new_run_of_its_workflow_completes_it()
    {
        var (host, probe, temporal) = await StartAsync(StoreKind.Postgres);
        await using var _ = host;
        var api = await TemporalTestHosts.ClientAsync(host);
        var execution = await TriggerAsync(api, await CreateDefinitionAsync(api, """[ { "id": "a", "type": "toggle" } ]"""));
        await WaitForStatusAsync(api, execution, "failed", seconds: 60);

        probe.Allow(execution);
        var response = await api.PostAsync(EndToEnd.Tests.Support.Http.Url($"{ExecutionsRoute}/{execution}/retry"), null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

        await WaitForStatusAsync(api, execution, "completed", seconds: 60);
        var runs = new List<WorkflowExecution>();
        await foreach (var run in temporal.ListWorkflowsAsync($"WorkflowId = '{execution}'")) runs.Add(run);
        Assert.Equal(2, runs.Count);
        Assert.Equal("completed", await temporal.GetWorkflowHandle(execution).GetResultAsync<string>());
    }
}
