using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Executions;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Triggers;
using Triggers.Modular.Triggers.Contracts;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;
using static Triggers.Modular.EndToEnd.Tests.Triggers.TriggerTestApi;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary>One host per store kind for the <c>emit_event</c> tests: the runtime tuned for speed and a small loop guard
/// (<c>Triggers:Events:MaxEmitDepth</c> = <see cref="MaxEmitDepth"/>).</summary>
public sealed class EmitEventHosts : IAsyncLifetime
{
    public const int MaxEmitDepth = 3;

    private readonly Lock _lock = new();
    private readonly Dictionary<StoreKind, Task<ApiHost>> _hosts = [];

    public Task<ApiHost> GetAsync(StoreKind kind)
    {
        lock (_lock)
        {
            if (!_hosts.TryGetValue(kind, out var host))
            {
                var settings = ExecutionsHosts.Settings();
                settings["Triggers:Events:MaxEmitDepth"] = MaxEmitDepth.ToString(System.Globalization.CultureInfo.InvariantCulture);
                _hosts[kind] = host = ApiHost.StartAsync(kind, settings);
            }

            return host;
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts.Values)
            if (host.IsCompletedSuccessfully) await (await host).DisposeAsync();
    }
}

/// <summary>The <c>emit_event</c> step (SPEC §5, issue 6): an emitted event is routed like a sent one, carries its causation
/// chain (source <c>step</c>, depth, the emitting execution as causation) and a chain deeper than the limit fails the step
/// instead of looping.</summary>
public sealed class EmitEventTests(EmitEventHosts hosts) : IClassFixture<EmitEventHosts>
{
    private const string SetStep = """[ { "id": "s", "type": "set", "config": { "values": { "got": "{{ trigger.order }}" } } } ]""";

    private static string EmitStep(string name, string payload) =>
        $$"""[ { "id": "emit", "type": "emit_event", "config": { "name": "{{name}}", "payload": {{payload}} } } ]""";

    private static string Unique(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    private static async Task<string> SendAsync(HttpClient client, string name, object payload, string? correlationId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url("/api/v1/events"))
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { name, payload }),
        };
        if (correlationId is not null) request.Headers.Add("X-Correlation-Id", correlationId);
        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        return JsonNode.Parse(text)!["event_id"]!.GetValue<string>();
    }

    /// <summary>The accepted events of that name in the store (sent or emitted), in the order they were stored.</summary>
    private static async Task<List<JsonNode>> AcceptedNamedAsync(ApiHost host, string name)
    {
        var database = host.Services.GetRequiredService<IStoreDatabase>();
        var sql = database.Dialect == StoreDialect.Postgres
            ? "SELECT data::text FROM event_store.events WHERE type = @type AND data->>'name' = @name ORDER BY seq"
            : "SELECT data FROM es_events WHERE type = @type AND json_extract(data, '$.name') = @name ORDER BY position";
        await using var connection = await database.OpenConnectionAsync();
        return [.. (await connection.QueryAsync<string>(sql, new { type = EventEventTypes.Accepted, name })).Select(d => JsonNode.Parse(d)!)];
    }

    private static async Task<RecordedEvent> AcceptedAsync(ApiHost host, string eventId) =>
        (await host.Services.GetRequiredService<IEventStore>().ReadStreamAsync(EventEventTypes.StreamFor(eventId), ReadDirection.Forward, 0, 10))
        .Single(e => e.Type == EventEventTypes.Accepted);

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_a_workflow_emitting_an_event_another_listens_to_When_its_event_is_sent_Then_the_other_runs_once_with_the_templated_payload_and_the_chain_is_recorded(
        StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var client = await ClientAsync(host);
        var aName = Unique("a.happened");
        var bName = Unique("b.happened");
        var a = await CreateDefinitionAsync(client,
            EmitStep(bName, """{ "order": "{{ trigger.order_id }}", "note": "from {{ event.name }}", "fixed": [1, 2] }"""), EventTrigger(aName));
        var b = await CreateDefinitionAsync(client, SetStep, EventTrigger(bName));
        await WaitRoutableAsync(host, aName, a);
        await WaitRoutableAsync(host, bName, b);
        var correlation = $"corr-{Guid.NewGuid():N}";

        var sent = await SendAsync(client, aName, new { order_id = 7 }, correlation);

        var aExecution = Str(Assert.Single(await EventExecutionsAsync(client, a, 1))!["id"]);
        var aDone = await WaitForStatusAsync(client, aExecution, "completed");
        Assert.Equal(sent, Str(aDone["event"]!["id"]));
        var output = Step(aDone, "emit")["output"]!;
        var emitted = Str(output["event_id"]);
        Assert.StartsWith("evt_", emitted, StringComparison.Ordinal);
        Assert.Equal(bName, Str(output["name"]));
        Assert.Equal(1, output["depth"]!.GetValue<int>());

        var bExecution = Str(Assert.Single(await EventExecutionsAsync(client, b, 1))!["id"]);
        var bDone = await WaitForStatusAsync(client, bExecution, "completed");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$"""{ "order": 7, "note": "from {{aName}}", "fixed": [1, 2] }"""), bDone["trigger_data"]),
            bDone["trigger_data"]!.ToJsonString());
        Assert.Equal(emitted, Str(bDone["event"]!["id"]));
        Assert.Equal(7, Step(bDone, "s")["output"]!["got"]!.GetValue<int>());

        var stored = await AcceptedAsync(host, emitted);
        var data = JsonNode.Parse(stored.Data)!;
        Assert.Equal("step", Str(data["source"]));
        Assert.Equal(1, data["depth"]!.GetValue<int>());
        Assert.Equal(bName, Str(data["name"]));
        Assert.Equal(aExecution, stored.Metadata.CausationId);
        Assert.Equal($"execution:{aExecution}", stored.Metadata.Actor);
        Assert.Equal(correlation, stored.Metadata.CorrelationId);
        Assert.Equal("acme", stored.Metadata.TenantId);
        Assert.Equal("dev", stored.Metadata.Environment);
        // The sender's correlation id runs through the whole chain, into the execution the emitted event started.
        var bStarted = (await HistoryAsync(client, bExecution))["events"]!.AsArray()[0]!;
        Assert.Equal(correlation, Str(bStarted["metadata"]!["correlation_id"]));
        Assert.Equal(emitted, Str(bStarted["metadata"]!["causation_id"]));

        await Task.Delay(300);
        Assert.Single((await ListAsync(client, $"workflow_id={b}&trigger_type=event"))["items"]!.AsArray());
        Assert.Single(await AcceptedNamedAsync(host, bName));
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_a_workflow_that_emits_the_event_it_listens_to_When_it_is_sent_once_Then_the_chain_stops_at_the_limit_with_emit_depth_exceeded(
        StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var client = await ClientAsync(host);
        var name = Unique("loop.tick");
        var loop = await CreateDefinitionAsync(client, EmitStep(name, """{ "n": "{{ trigger.n | plus: 1 }}" }"""), EventTrigger(name));
        await WaitRoutableAsync(host, name, loop);

        await SendAsync(client, name, new { n = 0 });

        // The sent event (depth 0) and each emitted one (1 … limit) start one execution; the last one's step is refused.
        const int limit = EmitEventHosts.MaxEmitDepth;
        var listed = await EventExecutionsAsync(client, loop, limit + 1);
        var executions = new List<JsonObject>();
        foreach (var item in listed)
        {
            var id = Str(item!["id"]);
            executions.Add(await EventuallyAsync(() => GetAsync(client, id), e => Str(e["status"]) is "completed" or "failed", $"{id} to finish"));
        }

        var failed = Assert.Single(executions, e => Str(e["status"]) == "failed");
        Assert.Equal(limit, executions.Count(e => Str(e["status"]) == "completed"));
        Assert.Equal("emit_depth_exceeded", Str(failed["error"]!["code"]));
        var step = Step(failed, "emit");
        Assert.Equal("failed", Str(step["status"]));
        Assert.Equal("emit_depth_exceeded", Str(step["error"]!["code"]));
        Assert.Contains("Triggers:Events:MaxEmitDepth", Str(step["error"]!["message"]), StringComparison.Ordinal);
        Assert.Single(step["attempts"]!.AsArray()); // not retried
        Assert.Equal(
            Enumerable.Range(1, limit),
            executions.Where(e => Str(e["status"]) == "completed").Select(e => Step(e, "emit")["output"]!["depth"]!.GetValue<int>()).Order());

        var accepted = await AcceptedNamedAsync(host, name);
        Assert.Equal(limit + 1, accepted.Count);
        Assert.Equal(new[] { "api" }.Concat(Enumerable.Repeat("step", limit)), accepted.Select(a => Str(a["source"])));
        Assert.Equal(Enumerable.Range(0, limit + 1), accepted.Select(a => a["depth"]!.GetValue<int>()));

        // Nothing keeps running.
        await Task.Delay(1_000);
        Assert.Equal(limit + 1, (await ListAsync(client, $"workflow_id={loop}&limit=200"))["items"]!.AsArray().Count);
        Assert.Equal(limit + 1, (await AcceptedNamedAsync(host, name)).Count);
    }

    [Fact]
    public async Task Given_a_payload_template_that_renders_to_no_object_When_the_step_runs_Then_it_fails_at_once_with_invalid_event_and_emits_nothing()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var client = await ClientAsync(host);
        var name = Unique("bad.payload");
        var workflow = await CreateDefinitionAsync(client, EmitStep(name, "\"{{ trigger.body }}\""));

        var bad = await WaitForStatusAsync(client, await TriggerAsync(client, workflow, new { body = new[] { 1, 2 } }), "failed");
        var good = await WaitForStatusAsync(client, await TriggerAsync(client, workflow, new { body = new { ok = true } }), "completed");

        var step = Step(bad, "emit");
        Assert.Equal("invalid_event", Str(step["error"]!["code"]));
        Assert.Contains("payload must be a JSON object", Str(step["error"]!["message"]), StringComparison.Ordinal);
        Assert.Single(step["attempts"]!.AsArray());
        // Started by hand, not by an event: the emitted event is the first of its chain.
        Assert.Equal(1, Step(good, "emit")["output"]!["depth"]!.GetValue<int>());
        var emitted = Assert.Single(await AcceptedNamedAsync(host, name));
        Assert.True(emitted["payload"]!["ok"]!.GetValue<bool>());
    }

    /// <summary>The handler as the host registered it, called directly the way the runtime calls it: a redelivery, or a config
    /// the definition rules would have refused (a name that renders to something invalid).</summary>
    private static IStepHandler Handler(ApiHost host) => host.Services.GetServices<IStepHandler>().Last(h => h.StepType == "emit_event");

    private static StepExecutionContext Delivery(string executionId, string config, object trigger, int attempt = 1) => new(
        executionId, "emit", "emit_event", attempt, $"{executionId}:emit", JsonDocument.Parse(config).RootElement.Clone(),
        JsonSerializer.SerializeToElement(new { trigger, @event = (object?)null, steps = new { }, tenant = "acme", environment = "dev" }),
        "acme", "dev", DateTimeOffset.UtcNow, null);

    [Fact]
    public async Task Given_a_step_delivered_again_When_it_runs_Then_it_finds_the_event_it_emitted_and_completes_with_the_same_output()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var handler = Handler(host);
        Assert.False(handler.RunsInline);
        var execution = PrefixedId.New("exec");
        var name = Unique("redelivered");
        var config = $$$"""{ "name": "{{{name}}}", "payload": { "n": "{{ trigger.n }}" } }""";

        var first = Assert.IsType<StepOutcome.Completed>(await handler.ExecuteAsync(Delivery(execution, config, new { n = 1 }), default));
        var again = Assert.IsType<StepOutcome.Completed>(await handler.ExecuteAsync(Delivery(execution, config, new { n = 1 }), default));
        var changed = Assert.IsType<StepOutcome.Completed>(await handler.ExecuteAsync(Delivery(execution, config, new { n = 2 }, attempt: 2), default));

        Assert.Equal(first.Output.GetRawText(), again.Output.GetRawText());
        Assert.Equal(first.Output.GetRawText(), changed.Output.GetRawText());
        var stored = Assert.Single(await AcceptedNamedAsync(host, name));
        Assert.Equal(first.Output.GetProperty("event_id").GetString(), Str(stored["event_id"]));
        Assert.Equal(1, stored["payload"]!["n"]!.GetValue<int>());
        // An execution id without a stream of its own: its id is the correlation id.
        var recorded = await AcceptedAsync(host, Str(stored["event_id"]));
        Assert.Equal(execution, recorded.Metadata.CorrelationId);
        Assert.Equal(execution, recorded.Metadata.CausationId);
    }

    [Theory]
    [InlineData("{{ trigger.kind }}", "Not A Name")]
    [InlineData("{{ trigger.kind }}", "")]
    [InlineData("x.{{ trigger.kind }}", "9lives")]
    public async Task Given_a_name_that_renders_to_an_invalid_event_name_When_the_step_runs_Then_it_fails_non_retryably_with_invalid_event(
        string template, string kind)
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var before = await host.RawEventCountAsync(EventEventTypes.Accepted);

        var outcome = await Handler(host).ExecuteAsync(Delivery(PrefixedId.New("exec"), $$"""{ "name": "{{template}}" }""", new { kind }), default);

        var failed = Assert.IsType<StepOutcome.Failed>(outcome);
        Assert.Equal("invalid_event", failed.Code);
        Assert.False(failed.Retryable);
        Assert.StartsWith("The rendered event is not valid: name: ", failed.Message, StringComparison.Ordinal);
        Assert.Equal(before, await host.RawEventCountAsync(EventEventTypes.Accepted));
    }
}
