using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.EndToEnd.Tests.Support;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary>Webhook secrets are shown once and kept only where verification needs them (issue 7): never in the log output,
/// an event, a read model, the idempotency records or a later answer — not even to a create retried with its
/// Idempotency-Key, and a rotation refuses the header.</summary>
public sealed class WebhookSecretsTests
{
    private const string SetStep = """[ { "id": "s", "type": "set", "config": { "values": { "got": "{{ trigger.n }}" } } } ]""";

    [Fact]
    public async Task Given_webhooks_created_rotated_and_called_with_every_auth_type_When_logs_events_and_tables_are_searched_Then_no_secret_or_signature_appears()
    {
        var sink = new Observability.CapturingSink();
        await using var host = await ApiHost.StartAsync(
            settings: new() { ["Serilog:MinimumLevel:Default"] = "Debug" },
            services: s => s.AddSingleton<Serilog.Core.ILogEventSink>(sink));
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);
        var anonymous = host.Anonymous();
        var workflow = await CreateDefinitionAsync(client, SetStep);
        var secrets = new List<string>();
        var signatures = new List<string>();

        // Created with an Idempotency-Key and retried: the same trigger, the secret only in the first answer.
        var body = new { WorkflowId = workflow, Name = "std", Type = "webhook", Config = new { AuthType = "hmac", HmacScheme = "standard" } };
        var first = await (await client.PostJsonAsync("/api/v1/triggers", body, "create-std")).JsonAsync();
        var retried = await client.PostJsonAsync("/api/v1/triggers", body, "create-std");
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        var replay = await retried.JsonAsync();
        Assert.Equal(Str(first["id"]), Str(replay["id"]));
        var standardSecret = Str(first["webhook_secret"]);
        Assert.StartsWith("whsec_", standardSecret, StringComparison.Ordinal);
        Assert.Null(replay["webhook_secret"]);
        Assert.EndsWith($"/api/webhooks/{Str(first["id"])}", Str(replay["webhook_url"]), StringComparison.Ordinal);
        secrets.Add(standardSecret);

        // Rotation: the header is refused (the answer holds a secret kept nowhere else); without it, a new secret.
        var rotateRequest = new HttpRequestMessage(HttpMethod.Post, Url($"/api/v1/triggers/{Str(first["id"])}/rotate-secret"));
        rotateRequest.Headers.Add("Idempotency-Key", "rotate-1");
        await (await client.SendAsync(rotateRequest)).ProblemAsync(400, "idempotency-key-not-supported");
        var rotated = await (await client.PostJsonAsync($"/api/v1/triggers/{Str(first["id"])}/rotate-secret", new { OverlapSeconds = 60 })).JsonAsync();
        var rotatedSecret = Str(rotated["webhook_secret"]);
        Assert.NotEqual(standardSecret, rotatedSecret);
        Assert.Equal(2, rotated["secret_version"]!.GetValue<int>());
        secrets.Add(rotatedSecret);

        var triggers = new Dictionary<string, (string Id, string Secret)> { ["standard"] = (Str(first["id"]), rotatedSecret) };
        foreach (var (name, config) in new (string, object)[]
                 {
                     ("github", new { AuthType = "hmac", HmacScheme = "github" }),
                     ("plain", new { AuthType = "hmac", HmacScheme = "plain" }),
                     ("api_key", new { AuthType = "api_key", ApiKeyHeader = "X-Partner-Key" }),
                     ("bearer", new { AuthType = "bearer" }),
                 })
        {
            var created = await (await client.PostJsonAsync("/api/v1/triggers", new { WorkflowId = workflow, Name = name, Type = "webhook", Config = config })).JsonAsync();
            var secret = Str(created["webhook_secret"]);
            secrets.Add(secret);
            triggers[name] = (Str(created["id"]), secret);
            var got = await (await client.GetAsync(Url($"/api/v1/triggers/{Str(created["id"])}"))).Content.ReadAsStringAsync();
            Assert.DoesNotContain(secret, got, StringComparison.Ordinal);
            Assert.DoesNotContain("webhook_secret", got, StringComparison.Ordinal);
        }

        // Each trigger called once rightly and once wrongly (a signature made with a wrong key).
        foreach (var (name, (id, secret)) in triggers)
        {
            foreach (var right in new[] { true, false })
            {
                var payload = $$"""{"n": {{(right ? 1 : 2)}}}""";
                var key = right ? secret : secret + "x";
                using var request = new HttpRequestMessage(HttpMethod.Post, Url($"/api/webhooks/{id}?page=1&token=query-secret-{name}"))
                {
                    Content = new StringContent(payload, Encoding.UTF8, "application/json"),
                };
                switch (name)
                {
                    case "standard":
                        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                        var mac = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(secret["whsec_".Length..]),
                            Encoding.UTF8.GetBytes($"msg_{name}_{right}.{timestamp}.{payload}")));
                        if (!right) mac = Convert.ToBase64String(new byte[32]);
                        signatures.Add(mac);
                        request.Headers.Add("webhook-id", $"msg_{name}_{right}");
                        request.Headers.Add("webhook-timestamp", timestamp);
                        request.Headers.Add("webhook-signature", "v1," + mac);
                        break;
                    case "github" or "plain":
                        var hex = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(payload)));
                        signatures.Add(hex);
                        request.Headers.Add(name == "github" ? "X-Hub-Signature-256" : "X-Signature", "sha256=" + hex);
                        break;
                    case "api_key":
                        request.Headers.Add("X-Partner-Key", key);
                        break;
                    default:
                        request.Headers.Add("Authorization", "Bearer " + key);
                        break;
                }

                request.Headers.Add("Cookie", $"session=cookie-secret-{name}");
                var response = await anonymous.SendAsync(request);
                Assert.True(response.StatusCode == (right ? HttpStatusCode.Accepted : HttpStatusCode.Unauthorized),
                    $"{name}, {(right ? "right" : "wrong")} credentials: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }

        // The request log shows all ten requests, redacted.
        var logs = new List<string>();
        foreach (var (name, (id, _)) in triggers)
        {
            var page = await EventuallyAsync(async () => await (await client.GetAsync(Url($"/api/v1/triggers/{id}/webhook-logs"))).JsonAsync(),
                p => p["items"]!.AsArray().Count == 2, $"the two requests of {name} in its log");
            var statuses = page["items"]!.AsArray().Select(i => i!["status"]!.GetValue<int>()).Order().ToArray();
            Assert.Equal([202, 401], statuses);
            Assert.All(page["items"]!.AsArray(), i => Assert.Equal("[redacted]", Str(i!["query"]!["token"])));
            logs.Add(page.ToJsonString());
        }

        var events = new List<string>();
        var store = host.Services.GetRequiredService<IEventStore>();
        var slice = await store.ReadAllForwardAsync(GlobalPosition.Start, 10_000);
        events.AddRange(slice.Events.Select(e => e.Data + " " + System.Text.Json.JsonSerializer.Serialize(e.Metadata)));
        Assert.Contains(events, e => e.Contains("webhook_secret_rotated", StringComparison.Ordinal) || e.Contains("\"version\":2", StringComparison.Ordinal));

        var rows = new List<string>();
        var secretRows = 0;
        await using (var connection = new SqliteConnection($"Data Source={host.SqlitePath}"))
        {
            foreach (var table in await connection.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'table'"))
            {
                var all = (await connection.QueryAsync($"SELECT * FROM \"{table}\"")).Cast<IDictionary<string, object?>>().Select(r => string.Join("|", r.Values)).ToList();
                if (table == "triggers_webhook_secrets") secretRows = all.Count; // the one place they must be
                else rows.AddRange(all);
            }
        }

        Assert.Equal(6, secretRows); // five triggers, one rotated
        await host.DisposeAsync();
        var logText = sink.AsJson();
        Assert.Contains("/api/webhooks/", logText, StringComparison.Ordinal); // the log did capture the requests
        var forbidden = secrets.Concat(signatures).Concat(triggers.Keys.SelectMany(n => new[] { $"query-secret-{n}", $"cookie-secret-{n}" })).ToList();
        foreach (var secret in forbidden)
        {
            Assert.DoesNotContain(secret, logText, StringComparison.Ordinal);
            Assert.DoesNotContain(events, e => e.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(rows, r => r.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(logs, l => l.Contains(secret, StringComparison.Ordinal));
        }
    }
}
