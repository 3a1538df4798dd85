using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Triggers.Contracts;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary>Trigger management (<c>/api/v1/triggers</c>, SPEC §4) over real HTTP: the lifecycle of a trigger, list filters and
/// paging, validation by the type's rules with field paths under <c>config.</c> that stores nothing, the fixed type, triggers
/// declared in definitions, permissions, tenant × environment isolation and idempotency keys.</summary>
public sealed class TriggersApiTests(EventsHosts hosts) : IClassFixture<EventsHosts>
{
    private const string Route = "/api/v1/triggers";

    private static readonly string[] Writer = [Permissions.WorkflowsRead, Permissions.WorkflowsWrite];

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private static Task<string> WorkflowAsync(HttpClient client) =>
        CreateDefinitionAsync(client, """[ { "id": "a", "order": 1, "type": "set", "config": { "values": { "x": 1 } } } ]""");

    private static string EventTrigger(string workflow, string eventName = "customer.created", string name = "On customer created") => $$"""
        { "workflow_id": "{{workflow}}", "name": "{{name}}", "type": "event",
          "config": { "event_name": "{{eventName}}",
                      "conditions": [ { "path": "payload.plan", "op": "eq", "value": "pro" } ],
                      "schema": { "type": "object", "required": ["customer_id"] } } }
        """;

    private static async Task<JsonObject> CreatedAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode} {text}");
        var trigger = JsonNode.Parse(text)!.AsObject();
        Assert.StartsWith("trg_", Str(trigger["id"]), StringComparison.Ordinal);
        Assert.Equal($"{Route}/{Str(trigger["id"])}", response.Headers.Location?.OriginalString);
        return trigger;
    }

    private static async Task<JsonObject> OkAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static async Task<JsonObject> ListAsync(HttpClient client, string query = "") =>
        await OkAsync(await client.GetAsync(Url($"{Route}?{query}")));

    private static Task<JsonObject> ListedAsync(HttpClient client, string query, Func<string[], bool> until, string what) =>
        EventuallyAsync(() => ListAsync(client, query), l => until(Ids(l)), what);

    private static async Task<string[]> StoredTypesAsync(ApiHost host, string triggerId) =>
        [.. (await host.Services.GetRequiredService<IEventStore>().ReadStreamAsync(TriggerEventTypes.StreamFor(triggerId), ReadDirection.Forward, 0, 100))
            .Select(e => e.Type)];

    // ---------------------------------------------------------------- lifecycle

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_an_event_trigger_When_created_read_listed_updated_disabled_enabled_and_deleted_Then_each_answer_shows_it_and_the_stream_records_it(
        StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var client = await host.ClientAsync("acme", "dev", Writer);
        var workflow = await WorkflowAsync(client);
        var other = await WorkflowAsync(client);

        var created = await CreatedAsync(await client.PostAsync(Url(Route), Body(EventTrigger(workflow))));
        var id = Str(created["id"]);
        Assert.Equal(workflow, Str(created["workflow_id"]));
        Assert.Equal("On customer created", Str(created["name"]));
        Assert.Equal("event", Str(created["type"]));
        Assert.True(created["enabled"]!.GetValue<bool>());
        Assert.Equal("api", Str(created["source"]));
        Assert.Equal("customer.created", Str(created["config"]!["event_name"]));
        Assert.Equal("pro", Str(created["config"]!["conditions"]![0]!["value"]));
        Assert.Equal("customer_id", Str(created["config"]!["schema"]!["required"]![0]));
        Assert.Equal(Time(created["created_at"]), Time(created["updated_at"]));

        var read = await OkAsync(await client.GetAsync(Url($"{Route}/{id}")));
        Assert.True(JsonNode.DeepEquals(created, read), $"{created.ToJsonString()} vs {read.ToJsonString()}");
        var listed = await ListedAsync(client, $"workflow_id={workflow}", ids => ids.Contains(id), "the trigger in the list");
        Assert.True(JsonNode.DeepEquals(created, listed["items"]![0]), listed.ToJsonString());

        // A full replacement; enabled left out keeps it, type left out is the trigger's own.
        var updated = await OkAsync(await client.PutAsync(Url($"{Route}/{id}"), Body($$"""
            { "workflow_id": "{{other}}", "name": "On order placed", "config": { "event_name": "order.placed" } }
            """)));
        Assert.Equal(other, Str(updated["workflow_id"]));
        Assert.Equal("On order placed", Str(updated["name"]));
        Assert.Equal("event", Str(updated["type"]));
        Assert.True(updated["enabled"]!.GetValue<bool>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{ "event_name": "order.placed" }"""), updated["config"]), updated.ToJsonString());
        Assert.Equal(Time(created["created_at"]), Time(updated["created_at"]));
        Assert.True(Time(updated["updated_at"]) >= Time(created["updated_at"]));
        Assert.True(JsonNode.DeepEquals(updated, await OkAsync(await client.GetAsync(Url($"{Route}/{id}")))));

        var disabled = await OkAsync(await client.PostAsync(Url($"{Route}/{id}/disable"), null));
        Assert.False(disabled["enabled"]!.GetValue<bool>());
        Assert.False((await OkAsync(await client.PostAsync(Url($"{Route}/{id}/disable"), null)))["enabled"]!.GetValue<bool>()); // no-op
        await ListedAsync(client, $"workflow_id={other}&enabled=false", ids => ids.Contains(id), "the disabled trigger under enabled=false");
        Assert.True((await OkAsync(await client.PostAsync(Url($"{Route}/{id}/enable"), null)))["enabled"]!.GetValue<bool>());

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(Url($"{Route}/{id}"))).StatusCode);
        await (await client.GetAsync(Url($"{Route}/{id}"))).ProblemAsync(404, "not-found");
        await (await client.DeleteAsync(Url($"{Route}/{id}"))).ProblemAsync(404, "not-found");
        await (await client.PostAsync(Url($"{Route}/{id}/enable"), null)).ProblemAsync(404, "not-found");
        await (await client.PutAsync(Url($"{Route}/{id}"), Body(EventTrigger(other)))).ProblemAsync(404, "not-found");
        await ListedAsync(client, $"workflow_id={other}", ids => !ids.Contains(id), "the deleted trigger to leave the list");

        Assert.Equal([TriggerEventTypes.Created, TriggerEventTypes.Updated, TriggerEventTypes.Disabled, TriggerEventTypes.Enabled, TriggerEventTypes.Deleted],
            await StoredTypesAsync(host, id));
    }

    [Fact]
    public async Task Given_manual_api_schedule_and_webhook_triggers_When_created_Then_each_keeps_its_config_and_an_absent_config_is_empty()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var client = await host.ClientAsync("acme", "dev", Writer);
        var workflow = await WorkflowAsync(client);

        var manual = await CreatedAsync(await client.PostAsync(Url(Route), Body($$"""{ "workflow_id": "{{workflow}}", "name": "Run", "type": "manual" }""")));
        var api = await CreatedAsync(await client.PostAsync(Url(Route),
            Body($$"""{ "workflow_id": "{{workflow}}", "name": "Api", "type": "api", "enabled": false, "config": {} }""")));
        var schedule = await CreatedAsync(await client.PostAsync(Url(Route), Body($$"""
            { "workflow_id": "{{workflow}}", "name": "Nightly", "type": "schedule",
              "config": { "cron_expression": "0 3 * * *", "timezone": "Europe/Berlin", "overlap_policy": "skip", "catchup_window_seconds": 600 } }
            """)));
        var webhook = await CreatedAsync(await client.PostAsync(Url(Route), Body($$"""
            { "workflow_id": "{{workflow}}", "name": "Hook", "type": "webhook", "config": { "method": "POST", "auth_type": "hmac", "hmac_scheme": "github" } }
            """)));

        Assert.Equal("{}", manual["config"]!.ToJsonString());
        Assert.False(api["enabled"]!.GetValue<bool>());
        Assert.Equal(600, schedule["config"]!["catchup_window_seconds"]!.GetValue<int>());
        Assert.Equal("Europe/Berlin", Str(schedule["config"]!["timezone"]));
        Assert.Equal("github", Str(webhook["config"]!["hmac_scheme"]));
    }

    // ---------------------------------------------------------------- list

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_triggers_of_two_workflows_When_listed_with_filters_limit_and_offset_Then_only_matching_ones_by_id(StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var client = await host.ClientAsync("acme", "dev", Writer);
        var a = await WorkflowAsync(client);
        var b = await WorkflowAsync(client);
        var eventA = Str((await CreatedAsync(await client.PostAsync(Url(Route), Body(EventTrigger(a)))))["id"]);
        var manualA = Str((await CreatedAsync(await client.PostAsync(Url(Route),
            Body($$"""{ "workflow_id": "{{a}}", "name": "Off", "type": "manual", "enabled": false }"""))))["id"]);
        var scheduleB = Str((await CreatedAsync(await client.PostAsync(Url(Route),
            Body($$"""{ "workflow_id": "{{b}}", "name": "Tick", "type": "schedule", "config": { "cron_expression": "*/5 * * * *" } }"""))))["id"]);
        var eventB = Str((await CreatedAsync(await client.PostAsync(Url(Route), Body(EventTrigger(b, "order.placed")))))["id"]);

        var ofA = await ListedAsync(client, $"workflow_id={a}", ids => ids.Length == 2, "both triggers of workflow a");
        Assert.Equal(new[] { eventA, manualA }.Order(StringComparer.Ordinal).ToArray(), Ids(ofA));
        Assert.Equal(2, ofA["total"]!.GetValue<long>());
        await ListedAsync(client, $"workflow_id={b}", ids => ids.Length == 2, "both triggers of workflow b");

        Assert.Equal([scheduleB], Ids(await ListAsync(client, $"workflow_id={b}&type=schedule")));
        Assert.Equal([manualA], Ids(await ListAsync(client, $"workflow_id={a}&enabled=false")));
        Assert.Equal([eventA], Ids(await ListAsync(client, $"workflow_id={a}&enabled=true")));
        Assert.Contains(eventB, Ids(await ListAsync(client, "type=event&limit=200")));
        Assert.DoesNotContain(scheduleB, Ids(await ListAsync(client, "type=event&limit=200")));

        var first = await ListAsync(client, $"workflow_id={a}&limit=1");
        var second = await ListAsync(client, $"workflow_id={a}&limit=1&offset=1");
        Assert.Equal(Ids(ofA)[..1], Ids(first));
        Assert.Equal(Ids(ofA)[1..], Ids(second));
        Assert.Equal(2, first["total"]!.GetValue<long>());
        Assert.Equal(1, second["offset"]!.GetValue<int>());

        Assert.NotNull((await (await client.GetAsync(Url($"{Route}?type=sms"))).ProblemAsync(400, "validation-error"))["errors"]!["type"]);
        Assert.NotNull((await (await client.GetAsync(Url($"{Route}?limit=0"))).ProblemAsync(400, "validation-error"))["errors"]!["limit"]);
        Assert.NotNull((await (await client.GetAsync(Url($"{Route}?offset=-1"))).ProblemAsync(400, "validation-error"))["errors"]!["offset"]);
    }

    // ---------------------------------------------------------------- validation

    [Theory]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "event", "config": { "event_name": "Customer Created" } }""", "config.event_name")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "event", "config": {} }""", "config.event_name")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "event", "config": { "event_name": "a.b", "schema": { "type": "objekt" } } }""", "config.schema")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "event", "config": { "event_name": "a.b", "schema": 5 } }""", "config.schema")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "event", "config": { "event_name": "a.b", "conditions": [ { "path": "payload.x", "op": "like", "value": 1 } ] } }""", "config.conditions[0].op")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "event", "config": { "event_name": "a.b", "cron_expression": "* * * * *" } }""", "config.cron_expression")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "event", "config": { "event_name": "a.b", "evnt_name": "a.b" } }""", "config.evnt_name")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "event", "config": { "event_name": "a.b", "type": "event" } }""", "config.type")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "event", "config": [ "a.b" ] }""", "config")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "schedule", "config": { "cron_expression": "* * *" } }""", "config.cron_expression")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "schedule", "config": { "cron_expression": "0 0 30 2 *" } }""", "config.cron_expression")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "schedule", "config": { "cron_expression": "60 * * * *" } }""", "config.cron_expression")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "schedule", "config": { "cron_expression": "0 24 * * *" } }""", "config.cron_expression")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "schedule", "config": { "cron_expression": "* * * * * * *" } }""", "config.cron_expression")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "schedule", "config": { "cron_expression": "61 * * * * *" } }""", "config.cron_expression")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "schedule", "config": {} }""", "config.cron_expression")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "schedule", "config": { "cron_expression": "0 3 * * *", "overlap_policy": "queue" } }""", "config.overlap_policy")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "schedule", "config": { "cron_expression": "0 3 * * *", "catchup_window_seconds": -1 } }""", "config.catchup_window_seconds")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "schedule", "config": { "cron_expression": "0 3 * * *", "timezone": "EST5EDT-nope" } }""", "config.timezone")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "schedule", "config": { "cron_expression": "0 3 * * *", "timezone": "Mars/Olympus" } }""", "config.timezone")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "schedule", "config": { "cron_expression": "0 3 * * *", "catchup_window_seconds": "60" } }""", "config.catchup_window_seconds")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "webhook", "config": { "auth_type": "password" } }""", "config.auth_type")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "manual", "config": { "event_name": "a.b" } }""", "config.event_name")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "sms" }""", "type")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "config": { "event_name": "a.b" } }""", "type")]
    [InlineData("""{ "workflow_id": "wf_00000000000000000000000000", "name": "n", "type": "manual" }""", "workflow_id")]
    [InlineData("""{ "workflow_id": "not-an-id", "name": "n", "type": "manual" }""", "workflow_id")]
    [InlineData("""{ "name": "n", "type": "manual" }""", "workflow_id")]
    [InlineData("""{ "workflow_id": "{wf}", "type": "manual" }""", "name")]
    [InlineData("""{ "workflow_id": "{wf}", "name": " ", "type": "manual" }""", "name")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "manual", "enabled": "yes" }""", "enabled")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "manual", "id": "trg_x" }""", "id")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "manual", "source": "definition" }""", "source")]
    [InlineData("""{ "workflow_id": "{wf}", "name": "n", "type": "manual", "workflow": "x" }""", "workflow")]
    public async Task Given_an_invalid_trigger_When_created_Then_400_naming_the_field_and_nothing_is_stored(string body, string field)
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var client = await host.ClientAsync("acme", "dev", Writer);
        var workflow = await WorkflowAsync(client);
        var before = await host.RawEventCountAsync();

        var problem = await (await client.PostAsync(Url(Route), Body(body.Replace("{wf}", workflow, StringComparison.Ordinal))))
            .ProblemAsync(400, "validation-error");

        Assert.True(problem["errors"]![field] is JsonArray { Count: > 0 }, problem.ToJsonString());
        Assert.All(problem["errors"]!.AsObject(), e => Assert.False(e.Key.StartsWith('.') || e.Key.Contains("..", StringComparison.Ordinal), e.Key));
        Assert.Equal(before, await host.RawEventCountAsync());
    }

    [Fact]
    public async Task Given_malformed_or_duplicate_keyed_json_or_another_content_type_When_created_Then_400_or_415_and_nothing_is_stored()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var client = await host.ClientAsync("acme", "dev", Writer);
        var workflow = await WorkflowAsync(client);
        var before = await host.RawEventCountAsync();

        await (await client.PostAsync(Url(Route), Body("""{ "name": """))).ProblemAsync(400, "malformed-json");
        await (await client.PostAsync(Url(Route), Body($$"""{ "workflow_id": "{{workflow}}", "name": "a", "name": "b", "type": "manual" }""")))
            .ProblemAsync(400, "malformed-json");
        await (await client.PostAsync(Url(Route), new StringContent("name=a", Encoding.UTF8, "text/plain"))).ProblemAsync(415);

        Assert.Equal(before, await host.RawEventCountAsync());
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_an_event_trigger_When_updated_with_another_type_or_an_invalid_config_Then_400_and_it_is_unchanged(StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var client = await host.ClientAsync("acme", "dev", Writer);
        var workflow = await WorkflowAsync(client);
        var created = await CreatedAsync(await client.PostAsync(Url(Route), Body(EventTrigger(workflow))));
        var id = Str(created["id"]);
        var before = await host.RawEventCountAsync();

        var retyped = await (await client.PutAsync(Url($"{Route}/{id}"), Body($$"""
            { "workflow_id": "{{workflow}}", "name": "n", "type": "schedule", "config": { "cron_expression": "0 3 * * *" } }
            """))).ProblemAsync(400, "validation-error");
        var invalid = await (await client.PutAsync(Url($"{Route}/{id}"), Body($$"""
            { "workflow_id": "{{workflow}}", "name": "n", "type": "event", "config": { "event_name": "Bad Name", "timezone": "UTC" } }
            """))).ProblemAsync(400, "validation-error");
        var unknownWorkflow = await (await client.PutAsync(Url($"{Route}/{id}"), Body(EventTrigger("wf_00000000000000000000000000"))))
            .ProblemAsync(400, "validation-error");

        Assert.Contains("cannot change", Str(retyped["errors"]!["type"]![0]), StringComparison.Ordinal);
        Assert.NotNull(invalid["errors"]!["config.event_name"]);
        Assert.NotNull(invalid["errors"]!["config.timezone"]);
        Assert.NotNull(unknownWorkflow["errors"]!["workflow_id"]);
        Assert.Equal(before, await host.RawEventCountAsync());
        Assert.True(JsonNode.DeepEquals(created, await OkAsync(await client.GetAsync(Url($"{Route}/{id}")))));
    }

    // ---------------------------------------------------------------- declared in a definition

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_a_trigger_declared_in_a_definition_When_updated_or_deleted_Then_409_pointing_at_the_definition_while_enable_and_disable_work(
        StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var client = await host.ClientAsync("acme", "dev", Writer);
        var workflow = await WorkflowAsync(client);
        // Written as the definition sync writes it (source "definition"), so this test depends only on the API's rule.
        var id = PrefixedId.New("trg");
        var declared = new TriggerCreated(id, "acme", "dev", workflow, "declared: event a.b", "event", true,
            JsonSerializer.SerializeToElement(new { event_name = "a.b" }), "definition", DateTimeOffset.UtcNow);
        await host.Services.GetRequiredService<IEventStore>().AppendToStreamAsync(TriggerEventTypes.StreamFor(id), ExpectedRevision.NoStream,
            [host.Services.GetRequiredService<EventSerializer>().Serialize(declared, Guid.CreateVersion7(), new EventMetadata("acme", "dev", "test"))]);
        var before = await host.RawEventCountAsync();

        var update = await (await client.PutAsync(Url($"{Route}/{id}"), Body(EventTrigger(workflow)))).ProblemAsync(409, "conflict");
        var delete = await (await client.DeleteAsync(Url($"{Route}/{id}"))).ProblemAsync(409, "conflict");

        Assert.Contains("edit the definition", Str(update["detail"]), StringComparison.Ordinal);
        Assert.Contains(workflow, Str(delete["detail"]), StringComparison.Ordinal);
        Assert.Equal(before, await host.RawEventCountAsync());
        Assert.False((await OkAsync(await client.PostAsync(Url($"{Route}/{id}/disable"), null)))["enabled"]!.GetValue<bool>());
        var enabled = await OkAsync(await client.PostAsync(Url($"{Route}/{id}/enable"), null));
        Assert.True(enabled["enabled"]!.GetValue<bool>());
        Assert.Equal("definition", Str(enabled["source"]));
    }

    // ---------------------------------------------------------------- permissions

    [Fact]
    public async Task Given_a_key_without_workflows_write_or_no_credential_When_calling_Then_403_or_401_and_nothing_is_stored()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var writer = await host.ClientAsync("acme", "dev", Writer);
        var reader = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsExecute);
        var sender = await host.ClientAsync("acme", "dev", Permissions.EventsWrite);
        var anonymous = host.Anonymous();
        var workflow = await WorkflowAsync(writer);
        var id = Str((await CreatedAsync(await writer.PostAsync(Url(Route), Body(EventTrigger(workflow)))))["id"]);
        var before = await host.RawEventCountAsync();

        await (await reader.PostAsync(Url(Route), Body(EventTrigger(workflow)))).ProblemAsync(403, "forbidden");
        await (await reader.PutAsync(Url($"{Route}/{id}"), Body(EventTrigger(workflow)))).ProblemAsync(403, "forbidden");
        await (await reader.DeleteAsync(Url($"{Route}/{id}"))).ProblemAsync(403, "forbidden");
        await (await reader.PostAsync(Url($"{Route}/{id}/disable"), null)).ProblemAsync(403, "forbidden");
        await (await sender.GetAsync(Url(Route))).ProblemAsync(403, "forbidden");
        await (await sender.GetAsync(Url($"{Route}/{id}"))).ProblemAsync(403, "forbidden");
        await (await anonymous.GetAsync(Url(Route))).ProblemAsync(401, "unauthenticated");
        await (await anonymous.GetAsync(Url($"{Route}/{id}"))).ProblemAsync(401, "unauthenticated");
        await (await anonymous.PostAsync(Url(Route), Body(EventTrigger(workflow)))).ProblemAsync(401, "unauthenticated");
        await (await anonymous.DeleteAsync(Url($"{Route}/{id}"))).ProblemAsync(401, "unauthenticated");

        Assert.Equal(id, Str((await OkAsync(await reader.GetAsync(Url($"{Route}/{id}"))))["id"]));
        await ListedAsync(reader, $"workflow_id={workflow}", ids => ids.Contains(id), "the trigger in the reader's list");
        Assert.Equal(before, await host.RawEventCountAsync());
    }

    // ---------------------------------------------------------------- isolation

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_a_trigger_of_acme_dev_When_another_tenant_or_environment_calls_Then_404_everywhere_and_absent_from_its_lists(StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var owner = await host.ClientAsync("acme", "dev", Writer);
        var prod = await host.ClientAsync("acme", "prod", Writer);
        var globex = await host.ClientAsync("globex", "dev", Writer);
        var workflow = await WorkflowAsync(owner);
        var created = await CreatedAsync(await owner.PostAsync(Url(Route), Body(EventTrigger(workflow))));
        var id = Str(created["id"]);
        await ListedAsync(owner, $"workflow_id={workflow}", ids => ids.Contains(id), "the trigger in its owner's list");

        foreach (var stranger in new[] { prod, globex })
        {
            var theirs = await WorkflowAsync(stranger);
            var before = await host.RawEventCountAsync();
            await (await stranger.GetAsync(Url($"{Route}/{id}"))).ProblemAsync(404, "not-found");
            await (await stranger.PutAsync(Url($"{Route}/{id}"), Body(EventTrigger(theirs)))).ProblemAsync(404, "not-found");
            await (await stranger.DeleteAsync(Url($"{Route}/{id}"))).ProblemAsync(404, "not-found");
            await (await stranger.PostAsync(Url($"{Route}/{id}/enable"), null)).ProblemAsync(404, "not-found");
            await (await stranger.PostAsync(Url($"{Route}/{id}/disable"), null)).ProblemAsync(404, "not-found");
            Assert.DoesNotContain(id, Ids(await ListAsync(stranger, "limit=200")));
            Assert.Empty(Ids(await ListAsync(stranger, $"workflow_id={workflow}")));
            // Another scope's workflow is not one it can link a trigger to.
            var foreign = await (await stranger.PostAsync(Url(Route), Body(EventTrigger(workflow)))).ProblemAsync(400, "validation-error");
            Assert.NotNull(foreign["errors"]!["workflow_id"]);
            Assert.Equal(before, await host.RawEventCountAsync());
        }

        Assert.True(JsonNode.DeepEquals(created, await OkAsync(await owner.GetAsync(Url($"{Route}/{id}")))));
    }

    // ---------------------------------------------------------------- idempotency

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_an_idempotency_key_When_the_same_trigger_is_created_twice_Then_the_same_trigger_once_and_another_body_is_422(StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var client = await host.ClientAsync("acme", "dev", Writer);
        var workflow = await WorkflowAsync(client);
        var key = $"trigger-{Guid.NewGuid():N}";
        var body = JsonNode.Parse(EventTrigger(workflow))!;
        var before = await host.RawEventCountAsync();

        var firstResponse = await client.PostJsonAsync(Route, body, key);
        var first = await CreatedAsync(firstResponse);
        var againResponse = await client.PostJsonAsync(Route, body, key);
        var again = await CreatedAsync(againResponse);
        var other = await CreatedAsync(await client.PostJsonAsync(Route, body, $"{key}-2"));
        var reused = await client.PostJsonAsync(Route, JsonNode.Parse(EventTrigger(workflow, "order.placed"))!, key);

        Assert.True(JsonNode.DeepEquals(first, again), $"{first.ToJsonString()} vs {again.ToJsonString()}");
        Assert.Equal("true", againResponse.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.NotEqual(Str(first["id"]), Str(other["id"]));
        await reused.ProblemAsync(422, "idempotency-key-reused");
        Assert.Equal([TriggerEventTypes.Created], await StoredTypesAsync(host, Str(first["id"])));
        Assert.Equal(before + 2, await host.RawEventCountAsync());
    }
}
