using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Triggers;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;
using static Triggers.Modular.EndToEnd.Tests.Triggers.TriggerTestApi;

namespace Triggers.Modular.EndToEnd.Tests.Audit;

/// <summary>The correlation view (issue 9): one call returns what followed from one accepted event — its routing, the
/// executions it started with their steps, an event a step emitted and what that started — and nothing of another request
/// that shared its correlation id.</summary>
public sealed class AuditTraceTests(EventsHosts hosts) : IClassFixture<EventsHosts>
{
    private static string Unique(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    private static async Task<string> SendAsync(HttpClient client, string name, object payload, string correlationId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url("/api/v1/events")) { Content = JsonContent.Create(new { name, payload }) };
        request.Headers.Add("X-Correlation-Id", correlationId);
        var response = await client.SendAsync(request);
        var body = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body.ToJsonString());
        return Str(body["event_id"]);
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_an_event_that_started_an_execution_which_emitted_another_When_traced_Then_the_whole_chain_and_nothing_of_its_sibling_is_returned(StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var tenant = $"trace-{Guid.NewGuid():N}"[..20];
        var client = await host.ClientAsync(tenant, "dev", Permissions.EventsWrite, Permissions.WorkflowsRead, Permissions.WorkflowsWrite,
            Permissions.WorkflowsExecute, Permissions.AuditRead);
        var (placed, audited) = (Unique("orders.placed"), Unique("orders.audited"));
        var emitter = await CreateDefinitionAsync(client,
            $$$"""[ { "id": "emit", "type": "emit_event", "config": { "name": "{{{audited}}}", "payload": { "order": "{{ trigger.order }}" } } } ]""",
            EventTrigger(placed));
        var listener = await CreateDefinitionAsync(client, """[ { "id": "s", "type": "set", "config": { "values": { "got": "{{ trigger.order }}" } } } ]""",
            EventTrigger(audited));

        // Routing reads the triggers read model: send only once both declared triggers are in it (two fresh-clone CI runs
        // sent too early and the events were recorded unrouted).
        await WaitRoutableAsync(host, placed, emitter);
        await WaitRoutableAsync(host, audited, listener);

        // Two requests with one correlation id: the trace of the first must not take in the second.
        var first = await SendAsync(client, placed, new { order = 1 }, "corr-shared");
        var second = await SendAsync(client, placed, new { order = 2 }, "corr-shared");
        await EventuallyAsync(() => ListAsync(client, $"workflow_id={listener}&status=completed"), l => l["items"]!.AsArray().Count == 2,
            "both chains completed", seconds: 30);
        await EventuallyAsync(() => ListAsync(client, $"workflow_id={emitter}&status=completed"), l => l["items"]!.AsArray().Count == 2,
            "both emitters completed", seconds: 30);

        var trace = await EventuallyAsync(async () => await (await client.GetAsync(Url($"/api/v1/audit/trace/{first}"))).JsonAsync(),
            t => t["streams"]!.AsArray().Count >= 4 && t["streams"]![3]!["events"]!.AsArray().Any(e => Str(e!["type"]) == "executions.execution_completed"),
            "the trace down to the listener's completion");
        Assert.Equal(("corr-shared", $"event-{first}"), (Str(trace["correlation_id"]), Str(trace["stream"])));
        var streams = trace["streams"]!.AsArray().Select(s => s!).ToList();
        Assert.Equal(["event", "execution", "event", "execution"], streams.Select(s => Str(s["category"])));
        Assert.False(trace["truncated"]!.GetValue<bool>());

        // 1. the accepted event and its routing; 2. the emitter's run with its step; 3. the emitted event; 4. the listener's run.
        var root = streams[0]["events"]!.AsArray();
        Assert.Contains(root, e => Str(e!["type"]) == "triggers.event_accepted");
        Assert.Contains(root, e => Str(e!["type"]) == "triggers.trigger_fired");
        var emitterRun = streams[1]["events"]!.AsArray();
        Assert.Equal(first, Str(emitterRun[0]!["causation_id"]));
        Assert.Contains(emitterRun, e => Str(e!["type"]).StartsWith("executions.step_", StringComparison.Ordinal));
        Assert.Equal(emitter, Str(emitterRun[0]!["data"]!["workflow_id"]));
        var emitted = Str(streams[2]["stream"])["event-".Length..];
        Assert.Equal(Str(streams[1]["stream"])["execution-".Length..], Str(streams[2]["events"]![0]!["causation_id"]));
        Assert.Equal(emitted, Str(streams[3]["events"]![0]!["causation_id"]));
        Assert.Equal(listener, Str(streams[3]["events"]![0]!["data"]!["workflow_id"]));
        Assert.Equal(trace["event_count"]!.GetValue<int>(), streams.Sum(s => s["events"]!.AsArray().Count));

        // Nothing of the sibling request, though it shares the correlation id.
        var all = trace.ToJsonString();
        Assert.DoesNotContain(second, all, StringComparison.Ordinal);
        var secondTrace = await (await client.GetAsync(Url($"/api/v1/audit/trace/{second}"))).JsonAsync();
        Assert.Empty(secondTrace["streams"]!.AsArray().Select(s => Str(s!["stream"])).Intersect(streams.Select(s => Str(s["stream"]))));

        // An execution can be the root too: its run and what it emitted onwards.
        var fromExecution = await (await client.GetAsync(Url($"/api/v1/audit/trace/{Str(streams[1]["stream"])["execution-".Length..]}"))).JsonAsync();
        Assert.Equal(streams.Skip(1).Select(s => Str(s["stream"])), fromExecution["streams"]!.AsArray().Select(s => Str(s!["stream"])));

        // Isolation and validation.
        var other = await host.ClientAsync($"other-{Guid.NewGuid():N}"[..20], "dev", Permissions.AuditRead);
        await (await other.GetAsync(Url($"/api/v1/audit/trace/{first}"))).ProblemAsync(404);
        var prod = await host.ClientAsync(tenant, "prod", Permissions.AuditRead);
        await (await prod.GetAsync(Url($"/api/v1/audit/trace/{first}"))).ProblemAsync(404);
        var problem = await (await client.GetAsync(Url("/api/v1/audit/trace/wf_123"))).ProblemAsync(400);
        Assert.NotNull(problem["errors"]!["id"]);
    }
}
