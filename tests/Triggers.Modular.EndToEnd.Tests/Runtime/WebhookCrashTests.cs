using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Xunit.Abstractions;
using static Triggers.Modular.EndToEnd.Tests.Runtime.ExecutionsApi;

namespace Triggers.Modular.EndToEnd.Tests.Runtime;

/// <summary>
/// A webhook's 202 survives <c>kill -9</c> (issue 7): the real host runs as its own process; HMAC-signed (Standard Webhooks)
/// requests are sent in parallel and the host is killed right after the last 202, while executions are still being started
/// (the test proves, from the store, that some acknowledged requests had no execution yet at the kill). After a restart
/// on the same store every acknowledged request's execution runs exactly once and completes, and a redelivery of an
/// acknowledged request answers the same execution id and starts nothing.
/// </summary>
public sealed class WebhookCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private ProcessStore? _store;
    private HostProcess? _host;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            _host.Dispose();
            output.WriteLine($"--- host output (tail) ---\n{_host.OutputTail()}");
        }

        if (_store is not null) await _store.DisposeAsync();
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_acknowledged_webhook_requests_When_the_host_is_killed_right_after_a_202_and_restarted_Then_each_execution_runs_once(StoreKind store)
    {
        _store = await ProcessStore.CreateAsync(store, "tm-e2e-webhook-crash");
        var environment = _store.Environment(new() { ["Executions__Runtime__PollIntervalSeconds"] = "0.2" });
        _host = await HostProcess.StartAsync(environment);
        var token = _host.FirstRunToken ?? throw new InvalidOperationException("No first-run key was printed:\n" + _host.Output);
        var acknowledged = new Dictionary<string, string>(StringComparer.Ordinal); // webhook-id → execution id
        string url, secret;
        using (var client = _host.Client(token))
        {
            var workflow = await CreateDefinitionAsync(client, """
                { "name": "Webhook crash", "steps": [
                  { "id": "a", "type": "set", "config": { "values": { "n": "{{ trigger.n }}" } } },
                  { "id": "b", "type": "set", "depends_on": ["a"], "config": { "values": { "n": "{{ steps.a.output.n }}" } } },
                  { "id": "c", "type": "set", "depends_on": ["b"], "config": { "values": { "n": "{{ steps.b.output.n }}" } } } ] }
                """);
            (url, secret) = await CreateWebhookAsync(client, workflow);

            using var anonymous = new HttpClient { BaseAddress = new Uri(_host.Url), Timeout = TimeSpan.FromSeconds(30) };
            // Three bursts, the last with 64 requests in flight at once, so that many 202s arrive together just before the kill.
            for (var burst = 0; burst < 3; burst++)
            {
                var results = await ForEachAsync(Enumerable.Range(burst * 100, 100), burst == 2 ? 64 : 32, async n =>
                {
                    var id = $"msg_crash_{n}";
                    return (id, await SendAsync(anonymous, url, secret, id, n));
                });
                foreach (var (id, execution) in results) acknowledged[id] = execution;
            }

            _host.Kill();
        }

        var requestsInStore = await _store.CountAsync("triggers.trigger_fired");
        var startedAtKill = await _store.CountAsync("executions.execution_started");
        output.WriteLine($"{store}: killed after {acknowledged.Count} 202s; {requestsInStore} fired in the store, {startedAtKill} started");
        Assert.True(requestsInStore >= acknowledged.Count, $"the store holds {requestsInStore} fired requests, fewer than the {acknowledged.Count} acknowledged");
        Assert.True(startedAtKill < requestsInStore, "every acknowledged request had started its execution at the kill: the scenario did not kill before the start");

        _host.Dispose();
        _host = await HostProcess.StartAsync(environment);
        await WaitUntilAsync(async () => await CompletedAsync() == requestsInStore, TimeSpan.FromSeconds(90),
            async () => $"completed {await CompletedAsync()} of {requestsInStore}\n{_host.OutputTail()}", pollMs: 500);

        // A redelivery after the restart: the first execution's id, nothing new.
        using (var anonymous = new HttpClient { BaseAddress = new Uri(_host.Url), Timeout = TimeSpan.FromSeconds(30) })
            Assert.Equal(acknowledged["msg_crash_299"], await SendAsync(anonymous, url, secret, "msg_crash_299", 299));

        await Task.Delay(1000);
        Assert.Equal(requestsInStore, await _store.CountAsync("executions.execution_started"));
        Assert.Equal(requestsInStore, await CompletedAsync());
        var started = await _store.StartedExecutionsAsync();
        Assert.All(acknowledged.Values, id => Assert.True(started.TryGetValue(id, out var n) && n == 1, $"execution {id} started {n} times"));
    }

    private static async Task<(string Url, string Secret)> CreateWebhookAsync(HttpClient client, string workflow)
    {
        var body = new JsonObject
        {
            ["workflow_id"] = workflow, ["name"] = "crash hook", ["type"] = "webhook",
            ["config"] = new JsonObject { ["auth_type"] = "hmac", ["hmac_scheme"] = "standard", ["rate_limit_per_minute"] = 100_000 },
        };
        using var response = await client.PostAsync(new Uri("/api/v1/triggers", UriKind.Relative), new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        var created = JsonNode.Parse(text)!;
        return (new Uri(created["webhook_url"]!.GetValue<string>()).AbsolutePath, created["webhook_secret"]!.GetValue<string>());
    }

    /// <summary>A Standard Webhooks request, signed here (HMAC-SHA256 of "{id}.{timestamp}.{body}" with the whsec_ key) → the execution id of its 202.</summary>
    private static async Task<string> SendAsync(HttpClient client, string url, string secret, string id, int n)
    {
        var body = $$"""{"n": {{n}}}""";
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var signature = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.Add("webhook-signature", "v1," + signature);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!["execution_id"]!.GetValue<string>();
    }

    private async Task<long> CompletedAsync()
    {
        await using var c = await _store!.OpenAsync();
        return await c.ExecuteScalarAsync<long>($"SELECT COUNT(DISTINCT stream_name) FROM {_store.Events} WHERE type = 'executions.execution_completed'");
    }
}
