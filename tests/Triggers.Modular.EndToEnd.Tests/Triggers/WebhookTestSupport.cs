using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Executions;
using Triggers.Modular.EndToEnd.Tests.Observability;
using Triggers.Modular.EndToEnd.Tests.Support;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary>One host per store kind for the webhook tests, started on first use: the runtime tuned for speed, a small
/// webhook body limit (<see cref="MaxBodyBytes"/>), debug logging captured in memory (one sink per host) so that the
/// tests can search the log output for secrets.</summary>
public sealed class WebhookHosts : IAsyncLifetime
{
    public const int MaxBodyBytes = 4096;

    private readonly Lock _lock = new();
    private readonly Dictionary<StoreKind, Task<ApiHost>> _hosts = [];
    private readonly Dictionary<StoreKind, CapturingSink> _sinks = [];

    public Task<ApiHost> GetAsync(StoreKind kind)
    {
        lock (_lock)
        {
            if (!_hosts.TryGetValue(kind, out var host))
            {
                var sink = new CapturingSink();
                _sinks[kind] = sink;
                var settings = ExecutionsHosts.Settings();
                settings["Triggers:Webhooks:MaxBodyBytes"] = MaxBodyBytes.ToString(CultureInfo.InvariantCulture);
                settings["Serilog:MinimumLevel:Default"] = "Debug";
                _hosts[kind] = host = ApiHost.StartAsync(kind, settings, s => s.AddSingleton<Serilog.Core.ILogEventSink>(sink));
            }

            return host;
        }
    }

    /// <summary>Everything the host of <paramref name="kind"/> logged so far.</summary>
    internal CapturingSink Sink(StoreKind kind)
    {
        lock (_lock) return _sinks[kind];
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts.Values)
            if (host.IsCompletedSuccessfully) await (await host).DisposeAsync();
    }
}

/// <summary>A webhook trigger as its create answer showed it: the path of its <c>webhook_url</c> and the secret shown once.</summary>
public sealed record Webhook(string Id, string WorkflowId, string Url, string Path, string? Secret, JsonObject Created);

/// <summary>A body sent without a <c>Content-Length</c> (chunked), so that only reading it shows its size.</summary>
internal sealed class UnknownLengthContent : HttpContent
{
    private readonly byte[] _bytes;

    public UnknownLengthContent(byte[] bytes, string mediaType)
    {
        _bytes = bytes;
        Headers.ContentType = new MediaTypeHeaderValue(mediaType);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(_bytes).AsTask();

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}

/// <summary>Calls, signatures and searches shared by the webhook tests. Signatures are computed here, independently of the
/// product's own signing helpers, from the schemes' definitions.</summary>
public static class WebhookTestApi
{
    public const string TriggersRoute = "/api/v1/triggers";
    public const string Redacted = "[redacted]";

    /// <summary>A workflow that copies <c>trigger.order_id</c> and the request's method into its output.</summary>
    public const string EchoStep =
        """[ { "id": "s", "type": "set", "config": { "values": { "got": "{{ trigger.order_id }}", "method": "{{ event.method }}" } } } ]""";

    public static async Task<string> WorkflowAsync(HttpClient client) => await CreateDefinitionAsync(client, EchoStep);

    /// <summary>Creates a webhook trigger with this <paramref name="config"/> (a JSON object); asserts the 201 and its
    /// <c>webhook_url</c>; returns the trigger with the secret of the answer.</summary>
    public static async Task<Webhook> CreateWebhookAsync(HttpClient client, string workflowId, string config = "{}", bool enabled = true,
        string? idempotencyKey = null)
    {
        var body = $$"""
            { "workflow_id": "{{workflowId}}", "name": "hook {{Guid.NewGuid():N}}", "type": "webhook", "enabled": {{(enabled ? "true" : "false")}},
              "config": {{config}} }
            """;
        using var request = new HttpRequestMessage(HttpMethod.Post, Url(TriggersRoute)) { Content = Json(body) };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"creating the webhook trigger: {(int)response.StatusCode} {text}");
        var created = JsonNode.Parse(text)!.AsObject();
        var id = Str(created["id"]);
        Assert.StartsWith("trg_", id, StringComparison.Ordinal);
        Assert.Equal("webhook", Str(created["type"]));
        var url = StrOrNull(created["webhook_url"]);
        Assert.False(string.IsNullOrEmpty(url), $"the create answer has no webhook_url: {text}");
        Assert.EndsWith($"/api/webhooks/{id}", url, StringComparison.Ordinal);
        var path = new Uri(url!, UriKind.Absolute).AbsolutePath;
        return new Webhook(id, workflowId, url!, path, StrOrNull(created["webhook_secret"]), created);
    }

    /// <summary>A request to the receiver: the body's bytes exactly as given, with <paramref name="contentType"/>.</summary>
    public static HttpRequestMessage Request(string path, string? body = "{}", string contentType = "application/json", HttpMethod? method = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Post, Url(path));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        return request;
    }

    public static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        using (request) return await client.SendAsync(request);
    }

    // ---------------------------------------------------------------- signatures (independent computations)

    public static long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>Standard Webhooks: <c>v1,</c> + base64 of HMAC-SHA256(base64-decoded part after <c>whsec_</c>,
    /// <c>"{id}.{timestamp}.{body}"</c>).</summary>
    public static string StandardSignature(string secret, string id, string timestamp, byte[] body)
    {
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var signed = Encoding.UTF8.GetBytes($"{id}.{timestamp}.").Concat(body).ToArray();
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
    }

    public static string StandardSignature(string secret, string id, string timestamp, string body) =>
        StandardSignature(secret, id, timestamp, Encoding.UTF8.GetBytes(body));

    /// <summary>GitHub and plain schemes: <c>sha256=</c> + lower-case hex of HMAC-SHA256(UTF-8 of the secret, body).</summary>
    public static string HexSignature(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    public static string HexSignature(string secret, string body) => HexSignature(secret, Encoding.UTF8.GetBytes(body));

    /// <summary>Signs <paramref name="request"/> (whose body is <paramref name="body"/>) the Standard Webhooks way.</summary>
    public static HttpRequestMessage SignStandard(HttpRequestMessage request, string secret, string body, string? id = null, long? timestamp = null)
    {
        var messageId = id ?? $"msg_{Guid.NewGuid():N}";
        var ts = (timestamp ?? Now()).ToString(CultureInfo.InvariantCulture);
        request.Headers.TryAddWithoutValidation("webhook-id", messageId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", ts);
        request.Headers.TryAddWithoutValidation("webhook-signature", StandardSignature(secret, messageId, ts, body));
        return request;
    }

    // ---------------------------------------------------------------- answers

    /// <summary>Asserts a 202 JSON answer of an accepted request; returns it.</summary>
    public static async Task<JsonObject> AcceptedAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"expected 202, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.True(body["success"]!.GetValue<bool>(), text);
        Assert.StartsWith("exec_", Str(body["execution_id"]), StringComparison.Ordinal);
        Assert.StartsWith("whr_", Str(body["request_id"]), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(StrOrNull(body["message"])), text);
        return body;
    }

    /// <summary>Asserts a refusal: problem+json with this status, problem type and <c>reason</c>; returns the problem.</summary>
    public static async Task<JsonObject> RefusedAsync(HttpResponseMessage response, int status, string reason, string? type = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status} {reason}, got {(int)response.StatusCode}: {text}");
        if (type is not null)
            Assert.True(text.Contains($"\"https://triggers-modular.dev/problems/{type}\"", StringComparison.Ordinal), $"expected problem type {type}: {text}");
        var problem = await response.ProblemAsync(status, type);
        Assert.True(StrOrNull(problem["reason"]) == reason, $"expected reason '{reason}' with {status}: {problem.ToJsonString()}");
        return problem;
    }

    // ---------------------------------------------------------------- the request log

    public static async Task<JsonObject> LogsAsync(HttpClient client, string triggerId, string query = "")
    {
        using var response = await client.GetAsync(Url($"{TriggersRoute}/{triggerId}/webhook-logs?{query}"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET webhook-logs of {triggerId}?{query}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Polls the log until it holds at least <paramref name="count"/> rows; returns them, newest first.</summary>
    public static async Task<List<JsonObject>> LogRowsAsync(HttpClient client, string triggerId, int count, string query = "limit=200") =>
        [.. (await EventuallyAsync(() => LogsAsync(client, triggerId, query), l => l["items"]!.AsArray().Count >= count,
            $"{count} rows in the webhook log of {triggerId}"))["items"]!.AsArray().Select(i => i!.AsObject())];

    /// <summary>Like <see cref="LogRowsAsync"/>, but after <paramref name="seconds"/> returns what the log holds instead of
    /// failing: for tests that report every difference at once.</summary>
    public static async Task<List<JsonObject>> LogRowsOrWhatIsThereAsync(HttpClient client, string triggerId, int count, double seconds = 3)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var rows = (await LogsAsync(client, triggerId, "limit=200"))["items"]!.AsArray().Select(i => i!.AsObject()).ToList();
            if (rows.Count >= count || DateTime.UtcNow > deadline) return rows;
            await Task.Delay(50);
        }
    }

    /// <summary>The execution an accepted request named, once it has completed: it starts a few milliseconds after the 202
    /// (a processor reads the request's stream), so it is first awaited into existence.</summary>
    public static async Task<JsonObject> CompletedAsync(HttpClient client, string executionId)
    {
        await EventuallyAsync(async () =>
        {
            using var response = await client.GetAsync(Url($"{ExecutionsRoute}/{executionId}"));
            return response.StatusCode;
        }, s => s == HttpStatusCode.OK, $"execution {executionId} to exist");
        return await WaitForStatusAsync(client, executionId, "completed");
    }

    /// <summary>Waits until the workflow's webhook-started executions number at least <paramref name="count"/>; returns them.</summary>
    public static async Task<JsonArray> WebhookExecutionsAsync(HttpClient client, string workflowId, int count) =>
        (await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflowId}&trigger_type=webhook&limit=200"),
            l => l["items"]!.AsArray().Count >= count, $"{count} webhook-triggered executions of {workflowId}"))["items"]!.AsArray();

    /// <summary>How many <c>triggers.trigger_fired</c> events in the store name this trigger: each starts one execution.</summary>
    public static async Task<long> FiringsAsync(ApiHost host, string triggerId)
    {
        var database = host.Services.GetRequiredService<IStoreDatabase>();
        await using var connection = await database.OpenConnectionAsync();
        var sql = database.Dialect == StoreDialect.Postgres
            ? "SELECT COUNT(*) FROM event_store.events WHERE type = 'triggers.trigger_fired' AND data::text LIKE @like"
            : "SELECT COUNT(*) FROM es_events WHERE type = 'triggers.trigger_fired' AND data LIKE @like";
        return await connection.ExecuteScalarAsync<long>(sql, new { like = $"%{triggerId}%" });
    }

    // ---------------------------------------------------------------- searching for secrets

    /// <summary>Every event in the store, data and metadata, as text.</summary>
    public static async Task<List<string>> AllEventsAsync(ApiHost host)
    {
        var store = host.Services.GetRequiredService<IEventStore>();
        var events = new List<string>();
        var position = GlobalPosition.Start;
        while (true)
        {
            var slice = await store.ReadAllForwardAsync(position, 5_000);
            events.AddRange(slice.Events.Select(e => $"{e.Type} {e.Data} {System.Text.Json.JsonSerializer.Serialize(e.Metadata)}"));
            if (slice.IsEnd || slice.Events.Count == 0) break;
            position = slice.ScannedUpTo;
        }

        return events;
    }

    /// <summary>Every row of every table of the store as text, keyed by table, except <paramref name="except"/> (the table
    /// that is meant to hold the webhook secrets).</summary>
    public static async Task<Dictionary<string, List<string>>> AllRowsAsync(ApiHost host, params string[] except)
    {
        var rows = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (host.SqlitePath is { } path)
        {
            await using var connection = new SqliteConnection($"Data Source={path}");
            foreach (var table in await connection.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'table'"))
            {
                if (except.Contains(table, StringComparer.Ordinal)) continue;
                rows[table] = [.. (await connection.QueryAsync($"SELECT * FROM \"{table}\"")).Cast<IDictionary<string, object?>>()
                    .Select(r => string.Join("|", r.Values))];
            }
        }
        else
        {
            await using var connection = new NpgsqlConnection(host.PostgresConnectionString);
            var tables = await connection.QueryAsync<(string Schema, string Name)>(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' " +
                "AND table_schema NOT IN ('pg_catalog', 'information_schema')");
            foreach (var (schema, name) in tables)
            {
                var table = $"{schema}.{name}";
                if (except.Contains(table, StringComparer.Ordinal)) continue;
                rows[table] = [.. await connection.QueryAsync<string>($"SELECT t::text FROM \"{schema}\".\"{name}\" t")];
            }
        }

        return rows;
    }
}
