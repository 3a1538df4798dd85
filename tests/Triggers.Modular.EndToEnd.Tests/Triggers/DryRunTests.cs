using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Triggers.Contracts;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;
using static Triggers.Modular.EndToEnd.Tests.Triggers.TriggerTestApi;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary><c>POST /api/v1/events/dry-run</c> (issue 6): which triggers an event would fire and why each other would not —
/// schema errors with their paths, the failing condition leaf, disabled definitions and triggers, names a typo away, unrouted
/// names — with nothing stored and nothing started, the same verdicts a real send then records, permissions and scope.</summary>
public sealed class DryRunTests(EventsHosts hosts) : IClassFixture<EventsHosts>
{
    private const string DryRunRoute = "/api/v1/events/dry-run";
    private const string TriggersRoute = "/api/v1/triggers";
    private const string Schema = """ "schema": { "type": "object", "required": ["order_id"], "properties": { "order_id": { "type": "integer" } } } """;
    private const string ProOnly = """ "conditions": [ { "path": "payload.plan", "op": "eq", "value": "pro" } ] """;

    private static string NewName(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..28];

    private static async Task<JsonObject> DryRunAsync(HttpClient client, string name, object payload)
    {
        var response = await client.PostJsonAsync(DryRunRoute, new { Name = name, Payload = payload });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(name, Str(body["name"]));
        return body;
    }

    /// <summary>The trigger declared in the workflow's definition (its only one), from <c>GET /api/v1/triggers?workflow_id=</c>.</summary>
    private static async Task<string> TriggerOfAsync(HttpClient client, string workflowId)
    {
        var list = await EventuallyAsync(async () => await (await client.GetAsync(Url($"{TriggersRoute}?workflow_id={workflowId}"))).JsonAsync(),
            l => l["items"]!.AsArray().Count == 1, $"the trigger of {workflowId}");
        return Str(list["items"]![0]!["id"]);
    }

    /// <summary>Disables the workflow's trigger and waits until the read model shows it disabled; returns its id.</summary>
    private static async Task<string> DisableTriggerAsync(HttpClient client, string workflowId)
    {
        var id = await TriggerOfAsync(client, workflowId);
        (await client.PostAsync(Url($"{TriggersRoute}/{id}/disable"), null)).EnsureSuccessStatusCode();
        await EventuallyAsync(async () => await (await client.GetAsync(Url($"{TriggersRoute}?workflow_id={workflowId}&enabled=false"))).JsonAsync(),
            l => l["items"]!.AsArray().Any(i => Str(i!["id"]) == id), $"trigger {id} disabled in the read model");
        return id;
    }

    /// <summary>The store's event count once it has stopped moving (executions started by earlier tests of the shared host
    /// finish, definition sync settles): the baseline for "nothing stored".</summary>
    private static async Task<long> QuietCountAsync(ApiHost host)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        var last = await host.RawEventCountAsync();
        while (true)
        {
            await Task.Delay(250);
            var now = await host.RawEventCountAsync();
            if (now == last) return now;
            if (DateTime.UtcNow > deadline) Assert.Fail($"the store kept growing for 15 s (now {now} events)");
            last = now;
        }
    }

    private static JsonObject[] Items(JsonObject dryRun, string list) => [.. dryRun[list]!.AsArray().Select(i => i!.AsObject())];

    private static JsonObject SkipOf(JsonObject dryRun, string workflowId) =>
        Assert.Single(Items(dryRun, "would_not_fire"), s => Str(s["workflow_id"]) == workflowId);

    /// <summary>One workflow per verdict, all listening to one name (plus one listening to a name a letter away).</summary>
    private sealed record Setup(string Name, string Fires, string SchemaFails, string ConditionFalse, string DefinitionDisabled, string TriggerDisabled,
        string DisabledTriggerId, string NearName);

    private static async Task<Setup> SetUpAsync(ApiHost host, HttpClient client, string prefix)
    {
        var name = NewName(prefix);
        var fires = await CreateDefinitionAsync(client, SetStep, EventTrigger(name));
        var schemaFails = await CreateDefinitionAsync(client, SetStep, EventTrigger(name, Schema));
        var conditionFalse = await CreateDefinitionAsync(client, SetStep, EventTrigger(name, ProOnly));
        var definitionDisabled = await CreateDefinitionAsync(client, SetStep, EventTrigger(name));
        var triggerDisabled = await CreateDefinitionAsync(client, SetStep, EventTrigger(name));
        var nearName = await CreateDefinitionAsync(client, SetStep, EventTrigger(name + "s"));
        await WaitRoutableAsync(host, name, fires, schemaFails, conditionFalse, definitionDisabled, triggerDisabled);
        await WaitRoutableAsync(host, name + "s", nearName);
        (await client.PostAsync(Url($"{DefinitionsRoute}/{definitionDisabled}/disable"), null)).EnsureSuccessStatusCode();
        var disabledTriggerId = await DisableTriggerAsync(client, triggerDisabled);
        return new Setup(name, fires, schemaFails, conditionFalse, definitionDisabled, triggerDisabled, disabledTriggerId, nearName);
    }

    // The payload every scenario sends: order_id is a string (the schema wants an integer), plan is not "pro".
    private static readonly object Payload = new { order_id = "seven", plan = "free" };

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_triggers_that_fire_fail_the_schema_or_condition_or_are_disabled_When_dry_run_Then_each_is_reported_with_its_reason_and_nothing_is_stored(
        StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var client = await ClientAsync(host);
        var s = await SetUpAsync(host, client, "order.placed");
        var stored = await QuietCountAsync(host);

        var dryRun = await DryRunAsync(client, s.Name, Payload);

        Assert.False(dryRun["unrouted"]!.GetValue<bool>());
        var fire = Assert.Single(Items(dryRun, "would_fire"));
        Assert.Equal(s.Fires, Str(fire["workflow_id"]));
        Assert.Equal(await TriggerOfAsync(client, s.Fires), Str(fire["trigger_id"]));
        Assert.Contains(s.Name, Str(fire["trigger_name"]), StringComparison.Ordinal);

        var schema = SkipOf(dryRun, s.SchemaFails);
        Assert.Equal("schema_failed", Str(schema["reason"]));
        Assert.Equal("#/order_id: IntegerExpected", Str(Assert.Single(schema["details"]!.AsArray())));
        var condition = SkipOf(dryRun, s.ConditionFalse);
        Assert.Equal("condition_false", Str(condition["reason"]));
        Assert.Contains("payload.plan", Str(condition["details"]![0]), StringComparison.Ordinal);
        Assert.Equal("definition_disabled", Str(SkipOf(dryRun, s.DefinitionDisabled)["reason"]));
        var disabled = SkipOf(dryRun, s.TriggerDisabled);
        Assert.Equal("trigger_disabled", Str(disabled["reason"]));
        Assert.Equal(s.DisabledTriggerId, Str(disabled["trigger_id"]));
        Assert.Contains(s.DisabledTriggerId, Str(disabled["details"]![0]), StringComparison.Ordinal);
        var near = SkipOf(dryRun, s.NearName);
        Assert.Equal("name_mismatch", Str(near["reason"]));
        Assert.Contains($"'{s.Name}s'", Str(near["details"]![0]), StringComparison.Ordinal);
        Assert.Equal(5, Items(dryRun, "would_not_fire").Length);
        Assert.All(Items(dryRun, "would_not_fire"), i => Assert.StartsWith("trg_", Str(i["trigger_id"]), StringComparison.Ordinal));

        // Nothing stored, nothing started.
        Assert.Equal(stored, await host.RawEventCountAsync());
        await Task.Delay(300);
        Assert.Equal(stored, await host.RawEventCountAsync());
        Assert.Empty((await ListAsync(client, $"workflow_id={s.Fires}"))["items"]!.AsArray());
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_the_same_event_When_dry_run_then_sent_Then_would_fire_and_would_not_fire_match_the_recorded_decisions(StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var client = await ClientAsync(host);
        var s = await SetUpAsync(host, client, "invoice.paid");
        foreach (var payload in new object[] { Payload, new { order_id = 3, plan = "pro" }, new { order_id = 4, plan = "free" } })
        {
            var dryRun = await DryRunAsync(client, s.Name, payload);
            var decisions = await DecisionsAsync(host, await SendAsync(client, s.Name, payload));

            var fired = decisions.Where(d => d.Type == EventEventTypes.TriggerFired).Select(d => Str(JsonNode.Parse(d.Data)!["trigger_id"])).Order();
            Assert.Equal(fired, Items(dryRun, "would_fire").Select(f => Str(f["trigger_id"])).Order());
            var skipped = decisions.Where(d => d.Type == EventEventTypes.TriggerSkipped).Select(d => JsonNode.Parse(d.Data)!)
                .Select(d => (Str(d["trigger_id"]), Str(d["reason"]), string.Join("|", d["details"]!.AsArray().Select(x => Str(x)))))
                .Order();
            var wouldNotFire = Items(dryRun, "would_not_fire").Where(i => Str(i["reason"]) is not ("trigger_disabled" or "name_mismatch"))
                .Select(i => (Str(i["trigger_id"]), Str(i["reason"]), string.Join("|", i["details"]!.AsArray().Select(x => Str(x)))))
                .Order();
            Assert.Equal(skipped, wouldNotFire);
            Assert.DoesNotContain(decisions, d => d.Type == EventEventTypes.Unrouted);
            Assert.False(dryRun["unrouted"]!.GetValue<bool>());
        }

        // An integer order_id passes the schema and plan "pro" the condition: all three enabled ones fire.
        var pro = await DryRunAsync(client, s.Name, new { order_id = 5, plan = "pro" });
        Assert.Equal(new[] { s.ConditionFalse, s.Fires, s.SchemaFails }.Order(), Items(pro, "would_fire").Select(f => Str(f["workflow_id"])).Order());
    }

    [Fact]
    public async Task Given_a_name_nobody_or_only_a_disabled_trigger_listens_to_When_dry_run_Then_unrouted_like_a_real_send()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var client = await ClientAsync(host);

        var unknown = NewName("nobody.listens");
        var none = await DryRunAsync(client, unknown, new { });
        Assert.True(none["unrouted"]!.GetValue<bool>());
        Assert.Empty(Items(none, "would_fire"));
        Assert.Empty(Items(none, "would_not_fire"));
        Assert.Equal(EventEventTypes.Unrouted, Assert.Single(await DecisionsAsync(host, await SendAsync(client, unknown, new { }))).Type);

        var name = NewName("only.disabled");
        var workflow = await CreateDefinitionAsync(client, SetStep, EventTrigger(name));
        await WaitRoutableAsync(host, name, workflow);
        var trigger = await DisableTriggerAsync(client, workflow);
        var onlyDisabled = await DryRunAsync(client, name, new { order_id = 1 });
        Assert.True(onlyDisabled["unrouted"]!.GetValue<bool>());
        Assert.Empty(Items(onlyDisabled, "would_fire"));
        Assert.Equal(trigger, Str(Assert.Single(Items(onlyDisabled, "would_not_fire"), s => Str(s["reason"]) == "trigger_disabled")["trigger_id"]));
        Assert.Equal(EventEventTypes.Unrouted, Assert.Single(await DecisionsAsync(host, await SendAsync(client, name, new { order_id = 1 }))).Type);
    }

    [Fact]
    public async Task Given_an_invalid_event_When_dry_run_Then_400_with_the_fields_of_a_send_and_nothing_stored()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var client = await ClientAsync(host);
        var stored = await QuietCountAsync(host);

        var badName = await (await client.PostJsonAsync(DryRunRoute, new { Name = "Not A Name", Payload = new { } })).ProblemAsync(400);
        Assert.NotNull(badName["errors"]!["name"]);
        var badPayload = await (await client.PostJsonAsync(DryRunRoute, new { Name = "a.b", Payload = new[] { 1, 2 } })).ProblemAsync(400);
        Assert.NotNull(badPayload["errors"]!["payload"]);
        var noName = await (await client.PostJsonAsync(DryRunRoute, new { Payload = new { } })).ProblemAsync(400);
        Assert.NotNull(noName["errors"]!["name"]);

        Assert.Equal(stored, await host.RawEventCountAsync());
    }

    [Fact]
    public async Task Given_a_key_without_events_write_When_dry_run_Then_403()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var reader = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);

        await (await reader.PostJsonAsync(DryRunRoute, new { Name = "a.b", Payload = new { } })).ProblemAsync(403, "forbidden");
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Anonymous().PostJsonAsync(DryRunRoute, new { Name = "a.b", Payload = new { } })).StatusCode);
    }

    [Fact]
    public async Task Given_triggers_of_acme_dev_When_another_tenant_or_environment_dry_runs_the_name_Then_none_of_them_appears()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var dev = await ClientAsync(host);
        var s = await SetUpAsync(host, dev, "user.created");
        var theirs = new[] { s.Fires, s.SchemaFails, s.ConditionFalse, s.DefinitionDisabled, s.TriggerDisabled, s.NearName };

        foreach (var outsider in new[] { await ClientAsync(host, "acme", "staging"), await ClientAsync(host, "globex", "dev") })
        {
            var dryRun = await DryRunAsync(outsider, s.Name, Payload);
            Assert.True(dryRun["unrouted"]!.GetValue<bool>());
            Assert.Empty(Items(dryRun, "would_fire"));
            Assert.Empty(Items(dryRun, "would_not_fire"));
            Assert.DoesNotContain(theirs, w => dryRun.ToJsonString().Contains(w, StringComparison.Ordinal));
        }

        // The owner still sees them all.
        var own = await DryRunAsync(dev, s.Name, Payload);
        Assert.Equal(6, Items(own, "would_fire").Length + Items(own, "would_not_fire").Length);
    }
}
