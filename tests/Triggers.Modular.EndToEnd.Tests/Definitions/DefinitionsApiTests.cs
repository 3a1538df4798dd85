using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.EndToEnd.Tests.Support;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Definitions;

/// <summary>The definitions API over real HTTP, on both stores.</summary>
public abstract class DefinitionsApiTests : IAsyncLifetime
{
    private const string Route = "/api/v1/workflows/definitions";

    public const string OnboardingJson = """
        {
          "name": "Customer Onboarding - Standard",
          "description": "Welcome new customers",
          "trigger": { "type": "event", "event_name": "customer.created",
                       "conditions": [ { "path": "payload.plan", "op": "eq", "value": "pro" } ],
                       "schema": { "type": "object", "required": ["customer_id"] } },
          "steps": [
            { "id": "assign_plan", "order": 1, "type": "http", "name": "Assign plan",
              "config": { "method": "POST", "url": "https://billing.example.com/plans", "body": { "customer": "{{ trigger.customer_id }}" } },
              "retry_policy": { "max_attempts": 5 } },
            { "id": "welcome", "order": 2, "type": "http", "depends_on": ["assign_plan"],
              "condition": { "all": [ { "path": "steps.assign_plan.output.status", "op": "eq", "value": 201 } ] },
              "config": { "method": "POST", "url": "https://mail.example.com/send" } }
          ],
          "enabled": true,
          "retry_policy": { "max_attempts": 3, "initial_interval_seconds": 1, "backoff_coefficient": 2.0, "max_interval_seconds": 60 },
          "timeout_seconds": 3600
        }
        """;

    public const string OnboardingYaml = """
        name: Customer Onboarding - Standard
        description: Welcome new customers
        trigger:
          type: event
          event_name: customer.created
          conditions:
            - { path: payload.plan, op: eq, value: pro }
          schema:
            type: object
            required: [customer_id]
        steps:
          - id: assign_plan
            order: 1
            type: http
            name: Assign plan
            config:
              method: POST
              url: https://billing.example.com/plans
              body:
                customer: "{{ trigger.customer_id }}"
            retry_policy:
              max_attempts: 5
          - id: welcome
            order: 2
            type: http
            depends_on: [assign_plan]
            condition:
              all:
                - { path: steps.assign_plan.output.status, op: eq, value: 201 }
            config:
              method: POST
              url: https://mail.example.com/send
        enabled: true
        retry_policy:
          max_attempts: 3
          initial_interval_seconds: 1
          backoff_coefficient: 2.0
          max_interval_seconds: 60
        timeout_seconds: 3600
        """;

    private ApiHost _host = null!;
    private HttpClient _writer = null!;

    protected abstract StoreKind Kind { get; }

    public async Task InitializeAsync()
    {
        _host = await ApiHost.StartAsync(Kind);
        _writer = await _host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static StringContent Yaml(string body) => new(body, Encoding.UTF8, "application/yaml");

    private async Task<JsonObject> CreateAsync(HttpClient client, string json = OnboardingJson)
    {
        var response = await client.PostAsync(Url(Route), Json(json));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private Task<long> EventCountAsync() => _host.RawEventCountAsync();

    private static async Task<JsonObject> EventuallyAsync(Func<Task<JsonObject>> read, Func<JsonObject, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var value = await read();
            if (until(value) || DateTime.UtcNow > deadline) return value;
            await Task.Delay(50);
        }
    }

    private static string[] Ids(JsonObject list) => list["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()).ToArray();

    [Fact]
    public async Task Given_a_valid_definition_When_created_Then_201_with_id_version_and_status_and_it_reads_back_and_lists()
    {
        var response = await _writer.PostAsync(Url(Route), Json(OnboardingJson));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.JsonAsync();
        var id = created["id"]!.GetValue<string>();
        Assert.StartsWith("wf_", id, StringComparison.Ordinal);
        Assert.Equal(1, created["version"]!.GetValue<int>());
        Assert.Equal("enabled", created["status"]!.GetValue<string>());
        Assert.Equal($"{Route}/{id}", response.Headers.Location!.OriginalString);
        Assert.Equal("\"1\"", response.Headers.ETag!.Tag);

        var read = await (await _writer.GetAsync(Url($"{Route}/{id}"))).JsonAsync();
        Assert.Equal("Customer Onboarding - Standard", read["name"]!.GetValue<string>());
        Assert.Equal("customer.created", read["definition"]!["trigger"]!["event_name"]!.GetValue<string>());

        var list = await EventuallyAsync(async () => await (await _writer.GetAsync(Url(Route))).JsonAsync(), l => Ids(l).Contains(id));
        Assert.Contains(id, Ids(list));
    }

    [Fact]
    public async Task Given_the_same_definition_as_yaml_and_as_json_When_created_Then_both_store_the_same_document()
    {
        var fromJson = await CreateAsync(_writer);
        var yamlResponse = await _writer.PostAsync(Url(Route), Yaml(OnboardingYaml));
        Assert.True(yamlResponse.StatusCode == HttpStatusCode.Created, await yamlResponse.Content.ReadAsStringAsync());
        var fromYaml = await yamlResponse.JsonAsync();

        Assert.True(JsonNode.DeepEquals(fromJson["definition"], fromYaml["definition"]),
            $"{fromJson["definition"]!.ToJsonString()}\n!=\n{fromYaml["definition"]!.ToJsonString()}");
    }

    [Fact]
    public async Task Given_a_definition_When_updated_with_if_match_Then_a_new_version_and_a_stale_if_match_gets_412_and_versions_are_kept()
    {
        var id = (await CreateAsync(_writer))["id"]!.GetValue<string>();
        var renamed = OnboardingJson.Replace("Customer Onboarding - Standard", "Onboarding v2", StringComparison.Ordinal);

        var put = new HttpRequestMessage(HttpMethod.Put, Url($"{Route}/{id}")) { Content = Json(renamed) };
        put.Headers.IfMatch.Add(new EntityTagHeaderValue("\"1\""));
        var updated = await _writer.SendAsync(put);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal(2, (await updated.JsonAsync())["version"]!.GetValue<int>());

        var stale = new HttpRequestMessage(HttpMethod.Put, Url($"{Route}/{id}")) { Content = Json(OnboardingJson) };
        stale.Headers.IfMatch.Add(new EntityTagHeaderValue("\"1\""));
        await (await _writer.SendAsync(stale)).ProblemAsync(412, "precondition-failed");

        var versions = await (await _writer.GetAsync(Url($"{Route}/{id}/versions"))).JsonAsync();
        Assert.Equal([1, 2], versions["items"]!.AsArray().Select(v => v!["version"]!.GetValue<int>()));
        Assert.Equal("Customer Onboarding - Standard", (await (await _writer.GetAsync(Url($"{Route}/{id}?version=1"))).JsonAsync())["name"]!.GetValue<string>());
        Assert.Equal("Onboarding v2", (await (await _writer.GetAsync(Url($"{Route}/{id}"))).JsonAsync())["name"]!.GetValue<string>());
        await (await _writer.GetAsync(Url($"{Route}/{id}?version=3"))).ProblemAsync(404);
    }

    [Fact]
    public async Task Given_a_definition_When_disabled_enabled_and_deleted_Then_status_list_filter_and_404_follow()
    {
        var id = (await CreateAsync(_writer))["id"]!.GetValue<string>();

        var disabled = await (await _writer.PostAsync(Url($"{Route}/{id}/disable"), null)).JsonAsync();
        Assert.Equal("disabled", disabled["status"]!.GetValue<string>());
        Assert.Equal(1, disabled["version"]!.GetValue<int>());
        var off = await EventuallyAsync(async () => await (await _writer.GetAsync(Url($"{Route}?enabled=false"))).JsonAsync(), l => Ids(l).Contains(id));
        Assert.Contains(id, Ids(off));
        Assert.Equal("enabled", (await (await _writer.PostAsync(Url($"{Route}/{id}/enable"), null)).JsonAsync())["status"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.NoContent, (await _writer.DeleteAsync(Url($"{Route}/{id}"))).StatusCode);
        await (await _writer.GetAsync(Url($"{Route}/{id}"))).ProblemAsync(404, "not-found");
        await (await _writer.DeleteAsync(Url($"{Route}/{id}"))).ProblemAsync(404);
        var all = await EventuallyAsync(async () => await (await _writer.GetAsync(Url(Route))).JsonAsync(), l => !Ids(l).Contains(id));
        Assert.DoesNotContain(id, Ids(all));
    }

    [Fact]
    public async Task Given_a_definitions_life_When_its_stream_is_read_Then_the_integration_events_are_there_in_order_with_the_callers_scope()
    {
        var id = (await CreateAsync(_writer))["id"]!.GetValue<string>();
        await _writer.PutAsync(Url($"{Route}/{id}"), Json(OnboardingJson));
        await _writer.PostAsync(Url($"{Route}/{id}/disable"), null);
        await _writer.PostAsync(Url($"{Route}/{id}/enable"), null);
        await _writer.DeleteAsync(Url($"{Route}/{id}"));

        var events = await _host.Services.GetRequiredService<IEventStore>().ReadStreamAsync($"definition-{id}", ReadDirection.Forward, 0, 100);

        Assert.Equal(["definitions.definition_created", "definitions.definition_updated", "definitions.definition_disabled",
            "definitions.definition_enabled", "definitions.definition_deleted"], events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal(("acme", "dev"), (e.Metadata.TenantId, e.Metadata.Environment)));
        var updated = JsonNode.Parse(events[1].Data)!;
        Assert.Equal(2, updated["version"]!.GetValue<int>());
        Assert.Equal("customer.created", updated["definition"]!["trigger"]!["event_name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Given_the_facade_When_another_module_asks_for_a_definition_Then_it_gets_the_version_asked_for_in_its_scope_only()
    {
        var id = (await CreateAsync(_writer))["id"]!.GetValue<string>();
        await _writer.PutAsync(Url($"{Route}/{id}"), Json(OnboardingJson.Replace("Customer Onboarding - Standard", "v2", StringComparison.Ordinal)));
        var facade = _host.Services.GetRequiredService<IDefinitionsModule>();

        Assert.Equal(2, (await facade.GetAsync("acme", "dev", id))!.Version);
        Assert.Equal("Customer Onboarding - Standard", (await facade.GetAsync("acme", "dev", id, version: 1))!.Name);
        Assert.Null(await facade.GetAsync("acme", "prod", id));
        Assert.Null(await facade.GetAsync("globex", "dev", id));
        Assert.Null(await facade.GetAsync("acme", "dev", "wf_01JD0000000000000000000000"));
    }

    [Fact]
    public async Task Given_another_tenant_or_environment_When_it_reads_or_changes_a_definition_Then_404_and_nothing_changes()
    {
        var id = (await CreateAsync(_writer))["id"]!.GetValue<string>();
        foreach (var other in new[] { await _host.ClientAsync("globex", "dev", Permissions.Admin), await _host.ClientAsync("acme", "prod", Permissions.Admin) })
        {
            await (await other.GetAsync(Url($"{Route}/{id}"))).ProblemAsync(404);
            await (await other.GetAsync(Url($"{Route}/{id}/versions"))).ProblemAsync(404);
            await (await other.PutAsync(Url($"{Route}/{id}"), Json(OnboardingJson))).ProblemAsync(404);
            await (await other.PostAsync(Url($"{Route}/{id}/disable"), null)).ProblemAsync(404);
            await (await other.DeleteAsync(Url($"{Route}/{id}"))).ProblemAsync(404);
            Assert.DoesNotContain(id, Ids(await (await other.GetAsync(Url(Route))).JsonAsync()));
        }

        var mine = await (await _writer.GetAsync(Url($"{Route}/{id}"))).JsonAsync();
        Assert.Equal(1, mine["version"]!.GetValue<int>());
        Assert.Equal("enabled", mine["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Given_server_owned_fields_in_the_body_When_created_Then_400_naming_each_and_nothing_stored()
    {
        var before = await EventCountAsync();
        var body = JsonNode.Parse(OnboardingJson)!.AsObject();
        body["id"] = "wf_01JD0000000000000000000000";
        body["tenant_id"] = "globex";
        body["version"] = 7;
        body["created_at"] = "2020-01-01T00:00:00Z";

        var problem = await (await _writer.PostAsync(Url(Route), Json(body.ToJsonString()))).ProblemAsync(400, "validation-error");

        foreach (var field in new[] { "id", "tenant_id", "version", "created_at" }) Assert.NotNull(problem["errors"]![field]);
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Given_a_dependency_cycle_When_created_Then_400_naming_the_cycle_and_nothing_stored()
    {
        var before = await EventCountAsync();
        const string cyclic = """
            { "name": "Cyclic", "steps": [
              { "id": "a", "type": "set", "depends_on": ["c"], "config": { "values": { "x": 1 } } },
              { "id": "b", "type": "set", "depends_on": ["a"], "config": { "values": { "x": 1 } } },
              { "id": "c", "type": "set", "depends_on": ["b"], "config": { "values": { "x": 1 } } } ] }
            """;
        var problem = await (await _writer.PostAsync(Url(Route), Json(cyclic))).ProblemAsync(400, "validation-error");
        var messages = problem["errors"]!.AsObject().SelectMany(e => e.Value!.AsArray().Select(m => m!.GetValue<string>())).ToList();
        Assert.Contains(messages, m => m.Contains('a', StringComparison.Ordinal) && m.Contains('b', StringComparison.Ordinal)
            && m.Contains('c', StringComparison.Ordinal) && m.Contains("cycle", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(problem["errors"]!.AsObject(), e => e.Key.StartsWith("steps[", StringComparison.Ordinal) && e.Key.Contains("depends_on", StringComparison.Ordinal));
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Given_an_unknown_field_or_a_wrong_type_When_created_Then_400_with_its_path()
    {
        var unknown = OnboardingJson.Replace("\"timeout_seconds\": 3600", "\"timeout_seconds\": 3600, \"colour\": \"red\"", StringComparison.Ordinal);
        Assert.NotNull((await (await _writer.PostAsync(Url(Route), Json(unknown))).ProblemAsync(400))["errors"]!["colour"]);

        var wrongType = OnboardingJson.Replace("\"order\": 1", "\"order\": \"first\"", StringComparison.Ordinal);
        var problem = await (await _writer.PostAsync(Url(Route), Json(wrongType))).ProblemAsync(400);
        Assert.Contains(problem["errors"]!.AsObject(), e => e.Key.StartsWith("steps[0]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Given_10000_steps_When_created_Then_refused_quickly_and_nothing_stored()
    {
        var before = await EventCountAsync();
        // Compact (≈ 250 KB), so that the step limit answers, not the body-size limit.
        var steps = string.Join(",", Enumerable.Range(0, 10_000).Select(i => "{\"id\":\"s" + i + "\",\"type\":\"set\"}"));
        var watch = Stopwatch.StartNew();
        var response = await _writer.PostAsync(Url(Route), Json("{\"name\":\"huge\",\"steps\":[" + steps + "]}"));
        watch.Stop();

        var problem = await response.ProblemAsync(400, "validation-error");
        Assert.Contains(problem["errors"]!["steps"]!.AsArray(), m => m!.GetValue<string>().Contains("200", StringComparison.Ordinal));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.Equal(before, await EventCountAsync());
    }

    public static TheoryData<string, string, string> SmuggledBodies() => new()
    {
        // A case variant beside the real field: bound case-insensitively it would be validated while the other is stored.
        { "application/json", """{"name":"a","steps":[{"id":"t","type":"bogus","depends_on":["t"]}],"Steps":[{"id":"s","type":"set"}]}""", "Steps" },
        { "application/json", """{"name":"a","name":"b","steps":[{"id":"s","type":"set","config":{"values":{"x":1}}}]}""", "body" },
        { "application/json", """{"name":"a","timeout_seconds":"30","steps":[{"id":"s","type":"set","config":{"values":{"x":1}}}]}""", "timeout_seconds" },
        { "application/yaml", "name: !!binary aGVsbG8=\nsteps: [{ id: s, type: set, config: { values: { x: 1 } } }]\n", "body" },
        { "application/yaml", "base: &b { id: s, type: set }\nname: a\nsteps: [{ <<: *b }]\n", "body" },
    };

    [Theory]
    [MemberData(nameof(SmuggledBodies))]
    public async Task Given_a_body_that_binds_ambiguously_When_created_Then_400_and_nothing_stored(string mediaType, string body, string field)
    {
        var before = await EventCountAsync();
        var response = await _writer.PostAsync(Url(Route), new StringContent(body, Encoding.UTF8, mediaType));
        var problem = await response.ProblemAsync(400);
        Assert.True(problem["errors"]?[field] is not null, problem.ToJsonString());
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Given_yaml_aliases_that_expand_a_small_body_When_created_Then_400_about_the_size_quickly()
    {
        var before = await EventCountAsync();
        var yaml = new StringBuilder("seed: &x \"").Append('A', 20_000).Append("\"\nname: bomb\nsteps:\n  - id: s\n    type: set\n    config:\n      values:\n        copies: [");
        yaml.Append(string.Join(", ", Enumerable.Repeat("*x", 1000))).Append("]\n");
        var watch = Stopwatch.StartNew();
        var problem = await (await _writer.PostAsync(Url(Route), Yaml(yaml.ToString()))).ProblemAsync(400);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.NotNull(problem["errors"]!["body"]);
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Given_weak_or_foreign_if_match_tags_When_updating_Then_412_and_a_list_with_the_current_version_matches()
    {
        var id = (await CreateAsync(_writer))["id"]!.GetValue<string>();
        foreach (var tag in new[] { "W/\"1\"", "\"abc\"", "\"01\"" })
        {
            var put = new HttpRequestMessage(HttpMethod.Put, Url($"{Route}/{id}")) { Content = Json(OnboardingJson) };
            put.Headers.TryAddWithoutValidation("If-Match", tag);
            await (await _writer.SendAsync(put)).ProblemAsync(412, "precondition-failed");
        }

        var list = new HttpRequestMessage(HttpMethod.Put, Url($"{Route}/{id}")) { Content = Json(OnboardingJson) };
        list.Headers.TryAddWithoutValidation("If-Match", "\"7\", \"1\"");
        Assert.Equal(HttpStatusCode.OK, (await _writer.SendAsync(list)).StatusCode);
    }

    [Fact]
    public async Task Given_a_disabled_definition_When_updated_with_enabled_true_in_the_document_Then_it_stays_disabled()
    {
        var id = (await CreateAsync(_writer))["id"]!.GetValue<string>();
        await _writer.PostAsync(Url($"{Route}/{id}/disable"), null);

        var updated = await (await _writer.PutAsync(Url($"{Route}/{id}"), Json(OnboardingJson))).JsonAsync();

        Assert.Equal(2, updated["version"]!.GetValue<int>());
        Assert.Equal("disabled", updated["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Given_a_read_only_key_or_a_wrong_content_type_When_creating_Then_403_or_415()
    {
        var reader = await _host.ClientAsync("acme", "dev", Permissions.WorkflowsRead);
        await (await reader.PostAsync(Url(Route), Json(OnboardingJson))).ProblemAsync(403);
        await (await _writer.PostAsync(Url(Route), new StringContent(OnboardingJson, Encoding.UTF8, "text/plain"))).ProblemAsync(415, "unsupported-media-type");
    }
}

public sealed class SqliteDefinitionsApiTests : DefinitionsApiTests
{
    protected override StoreKind Kind => StoreKind.Sqlite;
}

public sealed class PostgresDefinitionsApiTests : DefinitionsApiTests
{
    protected override StoreKind Kind => StoreKind.Postgres;
}
