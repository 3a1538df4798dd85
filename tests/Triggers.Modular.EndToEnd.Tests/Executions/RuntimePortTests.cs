using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.Contracts.Steps;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;

namespace Triggers.Modular.EndToEnd.Tests.Executions;

/// <summary>The Executions module's runtime port (issue 10, docs/adr/0017): a runtime other than the embedded one (the
/// Temporal workflow) decides through it; the events recorded are the embedded runtime's, calling again is safe, and events
/// appended by others (a cancel through the API) come back with the next call.</summary>
public sealed class RuntimePortTests
{
    // a, then b and c in parallel, then d.
    private const string Steps = """
        [ { "id": "a", "type": "set", "config": { "values": { "x": 1 } } },
          { "id": "b", "type": "set", "depends_on": ["a"], "config": { "values": { "y": 2 } } },
          { "id": "c", "type": "set", "depends_on": ["a"], "config": { "values": { "z": 3 } } },
          { "id": "d", "type": "set", "depends_on": ["b", "c"], "config": { "values": { "w": 4 } } } ]
        """;

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_a_run_recorded_but_not_run_here_When_a_runtime_drives_it_through_the_port_Then_it_records_the_embedded_runtimes_events(StoreKind kind)
    {
        var reference = await EmbeddedReferenceAsync(kind);
        await using var host = await ApiHost.StartAsync(kind, new Dictionary<string, string?> { ["Executions:Runtime:Mode"] = "none" });
        var port = host.Services.GetRequiredService<IExecutionRuntimePort>();

        // Each due step begun and its outcome recorded by the caller (the step's handler not run here).
        var (sync, seen) = await DriveAsync(host, async (execution, step, revision) =>
        {
            var begun = (await port.DecideAsync(execution, new RuntimeCommand.BeginAttempt(step.StepId, step.Attempt, "w1", TimeSpan.FromMinutes(1)), revision))!;
            var output = JsonSerializer.SerializeToElement(new { step = step.StepId });
            var recorded = (await port.DecideAsync(execution, new RuntimeCommand.RecordOutcome(step.StepId, step.Attempt, StepOutcome.Success(output), "w1"),
                begun.Revision))!;
            return recorded with { Events = [.. begun.Events, .. recorded.Events] };
        });

        Assert.Equal(reference.Events, Describe(host, seen));
        Assert.Equal(seen.Count - 1, sync.Revision);
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_a_run_recorded_but_not_run_here_When_a_runtime_runs_its_steps_through_the_port_Then_events_and_step_outputs_are_the_embedded_runtimes(StoreKind kind)
    {
        var reference = await EmbeddedReferenceAsync(kind);
        await using var host = await ApiHost.StartAsync(kind, new Dictionary<string, string?> { ["Executions:Runtime:Mode"] = "none" });
        var port = host.Services.GetRequiredService<IExecutionRuntimePort>();

        var (sync, seen) = await DriveAsync(host, (execution, step, revision) => port.RunStepAsync(execution, step.StepId, step.Attempt, "w1", revision)!);

        Assert.Equal(reference.Events, Describe(host, seen));
        Assert.Equal(reference.Outputs, seen.OfType<StepCompleted>().ToDictionary(c => c.StepId, c => JsonNode.Parse(c.Output.GetRawText())!.ToJsonString()));
        // Run again (a retried activity): not due any more — nothing recorded, the same revision answered.
        var again = (await port.RunStepAsync(sync.ExecutionId, "a", 1, "w1", sync.Revision))!;
        Assert.Empty(again.Events);
        Assert.Equal(sync.Revision, again.Revision);
    }

    /// <summary>The definition run by the embedded runtime: its events (type and step) and each step's output.</summary>
    private static async Task<(string[] Events, Dictionary<string, string> Outputs)> EmbeddedReferenceAsync(StoreKind kind)
    {
        await using var embedded = await ApiHost.StartAsync(kind);
        var client = await embedded.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);
        var run = await TriggerAsync(client, await CreateDefinitionAsync(client, Steps), new { who = "ada" });
        await WaitForStatusAsync(client, run, "completed");
        var history = (await HistoryAsync(client, run))["events"]!.AsArray();
        return ([.. history.Select(e => $"{Str(e!["type"])} {e["data"]?["step_id"]?.GetValue<string>()}".Trim())],
            history.Where(e => Str(e!["type"]) == ExecutionEventTypes.StepCompleted)
                .ToDictionary(e => Str(e!["data"]!["step_id"]), e => e!["data"]!["output"]!.ToJsonString()));
    }

    /// <summary>Starts the definition in <paramref name="host"/> (which runs nothing itself) and drives it to its end: every
    /// step scheduled and not started yet, in plan order, handed to <paramref name="run"/> one after the other — the order
    /// the embedded runtime's inline steps take (parallel steps on a real runtime interleave as they finish).</summary>
    private static async Task<(RuntimeSync Last, List<IEvent> Seen)> DriveAsync(ApiHost host, Func<string, StepScheduled, long, Task<RuntimeSync>> run)
    {
        var api = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);
        var execution = await TriggerAsync(api, await CreateDefinitionAsync(api, Steps), new { who = "ada" });
        var port = host.Services.GetRequiredService<IExecutionRuntimePort>();
        var sync = (await port.DecideAsync(execution, null, -1))!;
        var seen = new List<IEvent>(sync.Events);
        for (var round = 0; round < 20 && !seen.Any(e => e is ExecutionCompleted or ExecutionFailed); round++)
        {
            var due = seen.OfType<StepScheduled>().Where(s => !seen.OfType<StepStarted>().Any(t => t.StepId == s.StepId && t.Attempt == s.Attempt)).ToList();
            Assert.NotEmpty(due);
            foreach (var step in due)
            {
                sync = await run(execution, step, sync.Revision);
                seen.AddRange(sync.Events);
            }
        }

        Assert.Equal("completed", Str((await WaitForStatusAsync(api, execution, "completed"))["status"]));
        return (sync, seen);
    }

    private static string[] Describe(ApiHost host, IEnumerable<IEvent> events)
    {
        var names = host.Services.GetRequiredService<EventSerializer>().Registry;
        return [.. events.Select(e => $"{names.ForType(e.GetType()).Name} {StepOf(e)}".Trim())];
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_a_decision_made_When_the_same_call_comes_again_Then_nothing_more_is_recorded_and_the_same_events_are_answered(StoreKind kind)
    {
        await using var host = await ApiHost.StartAsync(kind, new Dictionary<string, string?> { ["Executions:Runtime:Mode"] = "none" });
        var api = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);
        var execution = await TriggerAsync(api, await CreateDefinitionAsync(api, Steps));
        var port = host.Services.GetRequiredService<IExecutionRuntimePort>();
        var start = (await port.DecideAsync(execution, null, -1))!;
        var begin = new RuntimeCommand.BeginAttempt("a", 1, "w1", TimeSpan.FromMinutes(1));

        var first = (await port.DecideAsync(execution, begin, start.Revision))!;
        var again = (await port.DecideAsync(execution, begin, start.Revision))!; // the answer to the first was lost: asked again

        Assert.IsType<StepStarted>(Assert.Single(first.Events));
        Assert.Equal(first.Revision, again.Revision);
        Assert.Equal(first.Events, again.Events);
        var all = (await port.DecideAsync(execution, null, -1))!;
        Assert.Single(all.Events.OfType<StepStarted>());
        Assert.Equal(first.Revision, all.Revision);
        Assert.Null(await port.DecideAsync("exec_01ZZZZZZZZZZZZZZZZZZZZZZZZ", null, -1));
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_a_run_cancelled_through_the_api_When_the_runtime_asks_next_Then_it_gets_the_cancellation_and_cancelling_again_is_harmless(StoreKind kind)
    {
        await using var host = await ApiHost.StartAsync(kind, new Dictionary<string, string?> { ["Executions:Runtime:Mode"] = "none" });
        var api = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);
        var execution = await TriggerAsync(api, await CreateDefinitionAsync(api, Steps));
        var port = host.Services.GetRequiredService<IExecutionRuntimePort>();
        var start = (await port.DecideAsync(execution, null, -1))!;

        var cancel = await api.PostAsync(Support.Http.Url($"{ExecutionsRoute}/{execution}/cancel"), null);
        Assert.True(cancel.IsSuccessStatusCode, await cancel.Content.ReadAsStringAsync());
        var next = (await port.DecideAsync(execution, new RuntimeCommand.BeginAttempt("a", 1, "w1", TimeSpan.FromMinutes(1)), start.Revision))!;

        Assert.Contains(next.Events, e => e is ExecutionCancelled);
        Assert.DoesNotContain(next.Events, e => e is StepStarted); // the attempt was refused: the run had ended
        var after = (await port.DecideAsync(execution, new RuntimeCommand.Cancel("again"), next.Revision))!;
        Assert.Empty(after.Events);
        Assert.Equal(next.Revision, after.Revision);
    }

    private static string? StepOf(IEvent e) => e switch
    {
        StepScheduled s => s.StepId,
        StepStarted s => s.StepId,
        StepCompleted s => s.StepId,
        StepSkipped s => s.StepId,
        _ => null,
    };
}
