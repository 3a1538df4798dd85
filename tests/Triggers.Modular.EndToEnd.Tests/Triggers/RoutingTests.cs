using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Dapper;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Triggers.Contracts;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;
using static Triggers.Modular.EndToEnd.Tests.Triggers.TriggerTestApi;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary>Routing accepted events to event triggers (issue 6): fan-out, scope, schema and condition skips with reasons,
/// disabled definitions, unrouted events, idempotent sends — end to end, from <c>POST /api/v1/events</c> to the executions
/// the triggers started.</summary>
public sealed class RoutingTests(EventsHosts hosts) : IClassFixture<EventsHosts>
{
    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_two_workflows_listening_to_an_event_When_it_is_sent_Then_each_starts_one_execution_with_the_payload_and_others_none(StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var client = await ClientAsync(host);
        var name = $"order.placed_{Guid.NewGuid():N}"[..30];
        var first = await CreateDefinitionAsync(client, SetStep, EventTrigger(name));
        var second = await CreateDefinitionAsync(client, SetStep, EventTrigger(name));
        var other = await CreateDefinitionAsync(client, SetStep, EventTrigger(name + "_other"));

        await WaitRoutableAsync(host, name, first, second);
        await WaitRoutableAsync(host, name + "_other", other);
        var eventId = await SendAsync(client, name, new { order_id = 7 });
        var decisions = await DecisionsAsync(host, eventId);

        Assert.Equal(2, decisions.Length);
        var fired = decisions.Where(d => d.Type == EventEventTypes.TriggerFired).Select(d => JsonNode.Parse(d.Data)!).ToList();
        Assert.Equal(new[] { first, second }.Order(), fired.Select(f => f["workflow_id"]!.GetValue<string>()).Order());
        foreach (var workflow in new[] { first, second })
        {
            var execution = Assert.Single(await EventExecutionsAsync(client, workflow, 1));
            var id = Str(execution!["id"]);
            Assert.Contains(id, fired.Select(f => f["execution_id"]!.GetValue<string>()));
            var done = await WaitForStatusAsync(client, id, "completed");
            Assert.Equal(7, done["trigger_data"]!["order_id"]!.GetValue<int>());
            Assert.Equal(7, Step(done, "s")["output"]!["got"]!.GetValue<int>());
        }

        Assert.Empty((await ListAsync(client, $"workflow_id={other}&trigger_type=event"))["items"]!.AsArray());
    }

    [Fact]
    public async Task Given_an_event_from_another_environment_or_tenant_When_sent_Then_nothing_fires_and_it_is_recorded_unrouted()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var dev = await ClientAsync(host);
        var name = $"user.created_{Guid.NewGuid():N}"[..28];
        var workflow = await CreateDefinitionAsync(dev, SetStep, EventTrigger(name));
        await WaitRoutableAsync(host, name, workflow);

        foreach (var outsider in new[] { await ClientAsync(host, "acme", "staging"), await ClientAsync(host, "globex", "dev") })
        {
            var decision = Assert.Single(await DecisionsAsync(host, await SendAsync(outsider, name, new { order_id = 2 })));
            Assert.Equal(EventEventTypes.Unrouted, decision.Type);
        }

        // Only the dev event starts anything.
        Assert.Equal(EventEventTypes.TriggerFired, Assert.Single(await DecisionsAsync(host, await SendAsync(dev, name, new { order_id = 1 }))).Type);
        Assert.Single(await EventExecutionsAsync(dev, workflow, 1));
        await Task.Delay(300);
        Assert.Single((await ListAsync(dev, $"workflow_id={workflow}&trigger_type=event"))["items"]!.AsArray());
    }

    [Fact]
    public async Task Given_a_schema_conditions_and_a_disabled_definition_When_events_fail_them_Then_the_triggers_are_skipped_with_reasons_and_nothing_starts()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var client = await ClientAsync(host);
        var name = $"invoice.paid_{Guid.NewGuid():N}"[..28];
        var strict = await CreateDefinitionAsync(client, SetStep, EventTrigger(name,
            """ "schema": { "type": "object", "required": ["order_id"], "properties": { "order_id": { "type": "integer" } } }, "conditions": [ { "path": "payload.plan", "op": "eq", "value": "pro" } ] """));
        await WaitRoutableAsync(host, name, strict);

        var badSchema = JsonNode.Parse(Assert.Single(await DecisionsAsync(host, await SendAsync(client, name, new { order_id = "seven", plan = "pro" }))).Data)!;
        var conditionFalse = JsonNode.Parse(Assert.Single(await DecisionsAsync(host, await SendAsync(client, name, new { order_id = 2, plan = "free" }))).Data)!;
        (await client.PostAsync(Url($"{DefinitionsRoute}/{strict}/disable"), null)).EnsureSuccessStatusCode();
        var disabled = JsonNode.Parse(Assert.Single(await DecisionsAsync(host, await SendAsync(client, name, new { order_id = 3, plan = "pro" }))).Data)!;

        Assert.Equal("schema_failed", badSchema["reason"]!.GetValue<string>());
        Assert.Contains(badSchema["details"]!.AsArray(), d => d!.GetValue<string>().Contains("order_id", StringComparison.Ordinal));
        Assert.Equal("condition_false", conditionFalse["reason"]!.GetValue<string>());
        Assert.Contains("payload.plan", conditionFalse["details"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("definition_disabled", disabled["reason"]!.GetValue<string>());
        Assert.Equal(strict, disabled["workflow_id"]!.GetValue<string>());
        await Task.Delay(300);
        Assert.Empty((await ListAsync(client, $"workflow_id={strict}&trigger_type=event"))["items"]!.AsArray());
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_an_idempotency_key_When_the_same_event_is_sent_three_times_Then_one_execution(StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var client = await ClientAsync(host);
        var name = $"ticket.opened_{Guid.NewGuid():N}"[..28];
        var workflow = await CreateDefinitionAsync(client, SetStep, EventTrigger(name));
        await WaitRoutableAsync(host, name, workflow);
        var key = $"k-{Guid.NewGuid():N}";

        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add(await SendAsync(client, name, new { order_id = 9 }, key));

        Assert.Single(ids.Distinct());
        await EventExecutionsAsync(client, workflow, 1);
        await Task.Delay(300);
        Assert.Single((await ListAsync(client, $"workflow_id={workflow}&trigger_type=event"))["items"]!.AsArray());
    }

    [Fact]
    public async Task Given_an_updated_definition_When_its_trigger_changes_name_Then_the_new_name_fires_and_the_old_one_no_longer_does()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var client = await ClientAsync(host);
        var before = $"a.before_{Guid.NewGuid():N}"[..24];
        var after = $"a.after_{Guid.NewGuid():N}"[..24];
        var workflow = await CreateDefinitionAsync(client, SetStep, EventTrigger(before));
        await WaitRoutableAsync(host, before, workflow);
        Assert.Equal(EventEventTypes.TriggerFired, Assert.Single(await DecisionsAsync(host, await SendAsync(client, before, new { order_id = 1 }))).Type);

        var current = JsonNode.Parse(await (await client.GetAsync(Url($"{DefinitionsRoute}/{workflow}"))).Content.ReadAsStringAsync())!;
        var body = new JsonObject
        {
            ["name"] = current["name"]!.GetValue<string>(),
            ["steps"] = JsonNode.Parse(SetStep),
            ["trigger"] = new JsonObject { ["type"] = "event", ["event_name"] = after },
        };
        (await client.PutAsync(Url($"{DefinitionsRoute}/{workflow}"), Json(body.ToJsonString()))).EnsureSuccessStatusCode();

        await WaitRoutableAsync(host, after, workflow);
        Assert.Equal(EventEventTypes.TriggerFired, Assert.Single(await DecisionsAsync(host, await SendAsync(client, after, new { order_id = 2 }))).Type);
        var old = Assert.Single(await DecisionsAsync(host, await SendAsync(client, before, new { order_id = 3 })));
        Assert.Equal(EventEventTypes.Unrouted, old.Type);
    }

    [Fact]
    public async Task Given_a_disabled_trigger_When_its_event_is_sent_Then_nothing_fires_until_it_is_enabled_again()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var client = await ClientAsync(host);
        var name = $"door.opened_{Guid.NewGuid():N}"[..26];
        var workflow = await CreateDefinitionAsync(client, SetStep, EventTrigger(name));
        await WaitRoutableAsync(host, name, workflow);
        var trigger = Str((await EventuallyAsync(async () => JsonNode.Parse(await client.GetStringAsync(Url($"/api/v1/triggers?workflow_id={workflow}")))!,
            l => l["items"]!.AsArray().Count == 1, "the declared trigger in the list"))["items"]![0]!["id"]);

        (await client.PostAsync(Url($"/api/v1/triggers/{trigger}/disable"), null)).EnsureSuccessStatusCode();
        await WaitEnabledAsync(host, trigger, false);
        Assert.Equal(EventEventTypes.Unrouted, Assert.Single(await DecisionsAsync(host, await SendAsync(client, name, new { order_id = 1 }))).Type);
        (await client.PostAsync(Url($"/api/v1/triggers/{trigger}/enable"), null)).EnsureSuccessStatusCode();
        await WaitEnabledAsync(host, trigger, true);
        Assert.Equal(EventEventTypes.TriggerFired, Assert.Single(await DecisionsAsync(host, await SendAsync(client, name, new { order_id = 2 }))).Type);

        var executions = await EventExecutionsAsync(client, workflow, 1);
        var only = Assert.Single(executions);
        Assert.Equal(2, (await WaitForStatusAsync(client, Str(only!["id"]), "completed"))["trigger_data"]!["order_id"]!.GetValue<int>());
    }
}
