using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Triggers.Contracts;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary>The events API (SPEC §4, issue 6) over real HTTP: acceptance stored durably before the 202, validation that
/// stores nothing, idempotency keys, the batch form, permissions and tenant scope.</summary>
public sealed class EventsApiTests(EventsHosts hosts) : IClassFixture<EventsHosts>
{
    private const string Route = "/api/v1/events";

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>The accepted event(s) in the event's stream (the dispatcher appends its routing decisions after them).</summary>
    private static async Task<RecordedEvent[]> StoredAsync(ApiHost host, string eventId) =>
        [.. (await host.Services.GetRequiredService<IEventStore>().ReadStreamAsync(EventEventTypes.StreamFor(eventId), ReadDirection.Forward, 0, 10))
            .Where(e => e.Type == EventEventTypes.Accepted)];

    private static async Task<string> AcceptedIdAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {text}");
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.Equal("event received", body["message"]!.GetValue<string>());
        var id = body["event_id"]!.GetValue<string>();
        Assert.StartsWith("evt_", id, StringComparison.Ordinal);
        return id;
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_a_valid_event_When_sent_Then_202_with_its_id_and_it_is_stored_with_name_payload_and_scope(StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var client = await host.ClientAsync("acme", "dev", Permissions.EventsWrite);

        var id = await AcceptedIdAsync(await client.PostAsync(Url(Route),
            Json("""{ "name": "customer.created", "payload": { "customer_id": "c_42", "plan": "pro", "tags": ["a", "b"] } }""")));
        var withoutPayload = await AcceptedIdAsync(await client.PostAsync(Url(Route), Json("""{ "name": "ping" }""")));

        var stored = Assert.Single(await StoredAsync(host, id));
        Assert.Equal(EventEventTypes.Accepted, stored.Type);
        Assert.Equal("acme", stored.Metadata.TenantId);
        Assert.Equal("dev", stored.Metadata.Environment);
        Assert.StartsWith("key:", stored.Metadata.Actor, StringComparison.Ordinal);
        var data = JsonNode.Parse(stored.Data)!;
        Assert.Equal(id, data["event_id"]!.GetValue<string>());
        Assert.Equal("customer.created", data["name"]!.GetValue<string>());
        Assert.Equal("c_42", data["payload"]!["customer_id"]!.GetValue<string>());
        Assert.Equal(["a", "b"], data["payload"]!["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal("api", data["source"]!.GetValue<string>());
        Assert.Equal(0, data["depth"]!.GetValue<int>());
        Assert.Equal("{}", JsonNode.Parse(Assert.Single(await StoredAsync(host, withoutPayload)).Data)!["payload"]!.ToJsonString());
        Assert.NotEqual(id, withoutPayload);
    }

    [Theory]
    [InlineData("""{ "payload": {} }""", "name")]
    [InlineData("""{ "name": "", "payload": {} }""", "name")]
    [InlineData("""{ "name": "Customer Created", "payload": {} }""", "name")]
    [InlineData("""{ "name": "customer..created" }""", "name")]
    [InlineData("""{ "name": "customer.created", "payload": [1, 2] }""", "payload")]
    [InlineData("""{ "name": "customer.created", "payload": "text" }""", "payload")]
    public async Task Given_a_bad_name_or_payload_When_sent_Then_400_naming_the_field_and_nothing_is_stored(string body, string field)
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var client = await host.ClientAsync("acme", "dev", Permissions.EventsWrite);
        var before = await host.RawEventCountAsync(EventEventTypes.Accepted);

        var problem = await (await client.PostAsync(Url(Route), Json(body))).ProblemAsync(400, "validation-error");

        Assert.NotNull(problem["errors"]![field]);
        Assert.Equal(before, await host.RawEventCountAsync(EventEventTypes.Accepted));
    }

    [Fact]
    public async Task Given_a_payload_too_deep_or_too_large_When_sent_Then_400_on_payload_and_nothing_is_stored()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var client = await host.ClientAsync("acme", "dev", Permissions.EventsWrite);
        var before = await host.RawEventCountAsync(EventEventTypes.Accepted);
        var deep = new StringBuilder("{\"name\":\"deep.one\",\"payload\":");
        for (var i = 0; i < 33; i++) deep.Append("{\"a\":");
        deep.Append('1').Append('}', 33).Append('}');
        var large = $$"""{ "name": "large.one", "payload": { "blob": "{{new string('x', 300 * 1024)}}" } }""";

        var tooDeep = await (await client.PostAsync(Url(Route), Json(deep.ToString()))).ProblemAsync(400, "validation-error");
        var tooLarge = await (await client.PostAsync(Url(Route), Json(large))).ProblemAsync(400, "validation-error");

        Assert.Contains("32 levels", tooDeep["errors"]!["payload"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("limit is 262144", tooLarge["errors"]!["payload"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(before, await host.RawEventCountAsync(EventEventTypes.Accepted));
    }

    [Fact]
    public async Task Given_malformed_json_no_credential_or_a_key_without_events_write_When_sending_Then_400_401_or_403_and_nothing_is_stored()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var writer = await host.ClientAsync("acme", "dev", Permissions.EventsWrite);
        var reader = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsExecute);
        var before = await host.RawEventCountAsync(EventEventTypes.Accepted);

        await (await writer.PostAsync(Url(Route), Json("""{ "name": "x.y", """))).ProblemAsync(400);
        await (await host.Anonymous().PostAsync(Url(Route), Json("""{ "name": "x.y" }"""))).ProblemAsync(401, "unauthenticated");
        await (await reader.PostAsync(Url(Route), Json("""{ "name": "x.y" }"""))).ProblemAsync(403, "forbidden");
        await (await reader.PostAsync(Url(Route + "/batch"), Json("""{ "events": [ { "name": "x.y" } ] }"""))).ProblemAsync(403, "forbidden");

        Assert.Equal(before, await host.RawEventCountAsync(EventEventTypes.Accepted));
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_an_idempotency_key_When_the_same_event_is_sent_twice_Then_the_same_event_id_and_one_stored_event(StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var client = await host.ClientAsync("acme", "dev", Permissions.EventsWrite);
        var key = $"send-{Guid.NewGuid():N}";
        const string body = """{ "name": "order.placed", "payload": { "order": 7 } }""";
        var before = await host.RawEventCountAsync(EventEventTypes.Accepted);

        var first = await AcceptedIdAsync(await client.PostJsonAsync(Route, JsonNode.Parse(body)!, key));
        var again = await AcceptedIdAsync(await client.PostJsonAsync(Route, JsonNode.Parse(body)!, key));
        var other = await AcceptedIdAsync(await client.PostJsonAsync(Route, JsonNode.Parse(body)!, $"{key}-2"));
        var reused = await client.PostJsonAsync(Route, JsonNode.Parse("""{ "name": "order.placed", "payload": { "order": 8 } }""")!, key);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        await reused.ProblemAsync(422, "idempotency-key-reused");
        Assert.Single(await StoredAsync(host, first));
        Assert.Equal(before + 2, await host.RawEventCountAsync(EventEventTypes.Accepted));
    }

    [Fact]
    public async Task Given_the_same_key_in_another_environment_When_sent_Then_a_different_event_in_that_scope()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var dev = await host.ClientAsync("acme", "dev", Permissions.EventsWrite);
        var prod = await host.ClientAsync("acme", "prod", Permissions.EventsWrite);
        var key = $"scope-{Guid.NewGuid():N}";

        var inDev = await AcceptedIdAsync(await dev.PostJsonAsync(Route, new { Name = "user.signed_up" }, key));
        var inProd = await AcceptedIdAsync(await prod.PostJsonAsync(Route, new { Name = "user.signed_up" }, key));

        Assert.NotEqual(inDev, inProd);
        Assert.Equal("prod", Assert.Single(await StoredAsync(host, inProd)).Metadata.Environment);
        Assert.Equal("dev", Assert.Single(await StoredAsync(host, inDev)).Metadata.Environment);
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_a_batch_with_good_and_bad_events_When_sent_Then_one_result_each_in_order_and_only_the_good_ones_stored(StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var client = await host.ClientAsync("acme", "dev", Permissions.EventsWrite);
        var before = await host.RawEventCountAsync(EventEventTypes.Accepted);
        var events = new JsonArray();
        for (var i = 0; i < 20; i++) events.Add(new JsonObject { ["name"] = "tick.happened", ["payload"] = new JsonObject { ["i"] = i } });
        events[3] = new JsonObject { ["name"] = "Bad Name" };
        events[11] = new JsonObject { ["name"] = "tick.happened", ["payload"] = new JsonArray(1) };

        var response = await client.PostAsync(Url(Route + "/batch"), Json(new JsonObject { ["events"] = events }.ToJsonString()));
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        var body = JsonNode.Parse(text)!;
        Assert.Equal(18, body["accepted"]!.GetValue<int>());
        Assert.Equal(2, body["rejected"]!.GetValue<int>());
        var results = body["results"]!.AsArray();
        Assert.Equal(Enumerable.Range(0, 20), results.Select(r => r!["index"]!.GetValue<int>()));
        Assert.Equal("rejected", results[3]!["status"]!.GetValue<string>());
        Assert.NotNull(results[3]!["errors"]!["name"]);
        Assert.Null(results[3]!["event_id"]);
        Assert.NotNull(results[11]!["errors"]!["payload"]);
        var ids = results.Where(r => r!["status"]!.GetValue<string>() == "accepted").Select(r => r!["event_id"]!.GetValue<string>()).ToList();
        Assert.Equal(18, ids.Distinct().Count());
        for (var i = 0; i < 20; i++)
        {
            if (i is 3 or 11) continue;
            var stored = Assert.Single(await StoredAsync(host, results[i]!["event_id"]!.GetValue<string>()));
            Assert.Equal(i, JsonNode.Parse(stored.Data)!["payload"]!["i"]!.GetValue<int>());
        }

        Assert.Equal(before + 18, await host.RawEventCountAsync(EventEventTypes.Accepted));
    }

    [Fact]
    public async Task Given_an_empty_or_oversized_batch_When_sent_Then_400_on_events_and_nothing_is_stored()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var client = await host.ClientAsync("acme", "dev", Permissions.EventsWrite);
        var before = await host.RawEventCountAsync(EventEventTypes.Accepted);
        var tooMany = new JsonArray();
        for (var i = 0; i < 101; i++) tooMany.Add(new JsonObject { ["name"] = "tick.happened" });

        foreach (var body in new[] { """{ "events": [] }""", "{}", new JsonObject { ["events"] = tooMany }.ToJsonString() })
        {
            var problem = await (await client.PostAsync(Url(Route + "/batch"), Json(body))).ProblemAsync(400, "validation-error");
            Assert.NotNull(problem["errors"]!["events"]);
        }

        Assert.Equal(before, await host.RawEventCountAsync(EventEventTypes.Accepted));
    }

    [Fact]
    public async Task Given_an_idempotency_key_When_a_batch_is_sent_twice_Then_the_same_results_and_its_events_stored_once()
    {
        var host = await hosts.GetAsync(StoreKind.Postgres);
        var client = await host.ClientAsync("acme", "dev", Permissions.EventsWrite);
        var key = $"batch-{Guid.NewGuid():N}";
        var body = JsonNode.Parse("""{ "events": [ { "name": "a.b", "payload": { "n": 1 } }, { "name": "a.b", "payload": { "n": 2 } } ] }""")!;
        var before = await host.RawEventCountAsync(EventEventTypes.Accepted);

        var first = await (await client.PostJsonAsync(Route + "/batch", body, key)).Content.ReadAsStringAsync();
        var again = await (await client.PostJsonAsync(Route + "/batch", body, key)).Content.ReadAsStringAsync();

        Assert.Equal(first, again);
        Assert.Equal(2, JsonNode.Parse(first)!["accepted"]!.GetValue<int>());
        Assert.Equal(before + 2, await host.RawEventCountAsync(EventEventTypes.Accepted));
    }
}
