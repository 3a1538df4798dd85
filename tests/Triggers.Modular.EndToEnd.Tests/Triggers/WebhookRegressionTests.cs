using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Data.Sqlite;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary>Defects a review of the webhook receiver found (issue 7), each pinned by a test that failed before its fix.</summary>
public sealed class WebhookRegressionTests(EventsHosts hosts) : IClassFixture<EventsHosts>
{
    private const string SetStep = """[ { "id": "s", "type": "set", "config": { "values": { "v": 1 } } } ]""";

    private static async Task<(string Id, string Secret)> CreateAsync(HttpClient client, string workflow, object config, string? key = null)
    {
        var response = await client.PostJsonAsync("/api/v1/triggers", new { WorkflowId = workflow, Name = "hook", Type = "webhook", Config = config }, key);
        var created = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, created.ToJsonString());
        return (Str(created["id"]), created["webhook_secret"]?.GetValue<string>() ?? "");
    }

    private static HttpRequestMessage Standard(string triggerId, string secret, string id, string body)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(secret["whsec_".Length..]), Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));
        var request = new HttpRequestMessage(HttpMethod.Post, Url($"/api/webhooks/{triggerId}")) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.Add("webhook-signature", "v1," + mac);
        return request;
    }

    [Fact]
    public async Task Given_a_signed_request_with_a_long_webhook_id_and_changing_unsigned_headers_When_replayed_Then_it_is_one_delivery()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite);
        var (id, secret) = await CreateAsync(client, await CreateDefinitionAsync(client, SetStep), new { AuthType = "hmac", HmacScheme = "standard" });
        var webhookId = "msg_" + new string('x', 300);
        var executions = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 3; i++)
        {
            using var request = Standard(id, secret, webhookId, "{}");
            request.Headers.Add("Idempotency-Key", $"attacker-{i}"); // unsigned: must not make a new delivery
            var response = await host.Anonymous().SendAsync(request);
            var answer = await response.JsonAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, answer.ToJsonString());
            executions.Add(Str(answer["execution_id"]));
        }

        Assert.Single(executions);
    }

    [Fact]
    public async Task Given_unusual_methods_When_sent_Then_the_receiver_answers_them_in_its_order_and_records_them()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite);
        var (id, _) = await CreateAsync(client, await CreateDefinitionAsync(client, SetStep), new { Method = "POST" });
        var anonymous = host.Anonymous();

        var unknown = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod("PROPFIND"), Url("/api/webhooks/trg_01JD0000000000000000000000")));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var wrong = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod("PROPFIND"), Url($"/api/webhooks/{id}")));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrong.StatusCode);
        Assert.Equal("POST", wrong.Content.Headers.Allow.Single());
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(Url($"/api/v1/triggers/{id}/disable"), null)).StatusCode);
        var disabled = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod("TRACE"), Url($"/api/webhooks/{id}")));
        Assert.Equal(HttpStatusCode.Conflict, disabled.StatusCode);

        var log = await EventuallyAsync(async () => await (await client.GetAsync(Url($"/api/v1/triggers/{id}/webhook-logs"))).JsonAsync(),
            l => l["items"]!.AsArray().Count == 2, "the two requests in the log");
        Assert.Equal(["PROPFIND:405", "TRACE:409"], log["items"]!.AsArray()
            .Select(i => $"{Str(i!["method"])}:{i["status"]!.GetValue<int>()}").Order());
    }

    [Fact]
    public async Task Given_a_json_body_that_is_not_utf8_When_sent_Then_400_and_nothing_starts()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite);
        var workflow = await CreateDefinitionAsync(client, SetStep);
        var (id, _) = await CreateAsync(client, workflow, new { AuthType = "none" });
        var content = new ByteArrayContent([(byte)'{', (byte)'"', (byte)'a', (byte)'"', (byte)':', (byte)'"', 0xff, (byte)'"', (byte)'}']);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var response = await host.Anonymous().PostAsync(Url($"/api/webhooks/{id}"), content);
        var problem = await response.ProblemAsync(400, "malformed-json");
        Assert.Equal("invalid_body", Str(problem["reason"]));
        Assert.Empty((await ListAsync(client, $"workflow_id={workflow}"))["items"]!.AsArray());
    }

    [Fact]
    public async Task Given_a_create_repeated_with_its_idempotency_key_after_the_record_expired_Then_the_secret_stays_and_is_not_shown()
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite);
        var workflow = await CreateDefinitionAsync(client, SetStep);
        var key = $"provision-{Guid.NewGuid():N}";
        var (id, secret) = await CreateAsync(client, workflow, new { AuthType = "bearer" }, key);
        await using (var connection = new SqliteConnection($"Data Source={host.SqlitePath}"))
            Assert.Equal(1, await connection.ExecuteAsync("DELETE FROM platform_idempotency_records WHERE idempotency_key = @key", new { key }));

        var (again, shown) = await CreateAsync(client, workflow, new { AuthType = "bearer" }, key);
        Assert.Equal(id, again);
        Assert.Equal("", shown);
        using var request = new HttpRequestMessage(HttpMethod.Post, Url($"/api/webhooks/{id}")) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Add("Authorization", "Bearer " + secret);
        Assert.Equal(HttpStatusCode.Accepted, (await host.Anonymous().SendAsync(request)).StatusCode);
    }
}
