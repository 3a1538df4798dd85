using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;

namespace Triggers.Modular.Bench;

/// <summary>One query shape of <c>--only audit</c>: latency over repeated calls, and how many items a page held.</summary>
internal sealed record AuditQueryResult(string Name, string Query, int Calls, LatencySummary Latency, double MeanItems, string? Error = null);

/// <summary>
/// Issue 9 (<c>--only audit</c>): history queries against a PostgreSQL store holding <c>--read-events</c> events (default
/// 1,000,000): the host as its own process; the events written straight into its database in one statement per
/// statement (scopes interleaved, types with a skewed mix, correlation ids shared by ten events, streams of 20 events, created
/// times a millisecond apart), then VACUUM (ANALYZE). Each query shape is called 200 times in sequence through
/// <c>GET /api/v1/audit/events</c> with the first-run admin key (tenant default × dev, 60 % of the events; the rest spread
/// over four other scopes). The ratio to the issue's target (p99 &lt; 100 ms) is the figure.
/// </summary>
internal sealed class AuditBench(BenchOptions o, Dictionary<string, string> environment)
{
    private const int Calls = 200;

    private static readonly string[] Types =
    [
        "executions.step_completed", "executions.step_started", "executions.execution_started", "executions.execution_completed",
        "triggers.event_accepted", "triggers.trigger_fired", "triggers.webhook_request", "definitions.definition_created",
        "triggers.schedule_slot_fired", "triggers.trigger_deleted",
    ];

    public async Task<List<AuditQueryResult>> RunAsync()
    {
        var dll = o.HostDll ?? HostProcess.LocateDll();
        var total = Math.Max(10_000, o.ReadEvents);
        var results = new List<AuditQueryResult>();
        await using (var database = await BenchDatabase.CreateAsync(o.PostgresAdmin))
        {
            var connectionString = database.ConnectionString;
            await using var host = await HostProcess.StartAsync(dll, new Dictionary<string, string>
            {
                ["EventStore__Provider"] = "postgres",
                ["EventStore__Postgres__ConnectionString"] = connectionString,
            });
            var fill = Stopwatch.StartNew();
            await FillAsync(connectionString, total);
            environment["Store"] = string.Create(CultureInfo.InvariantCulture,
                $"{total:N0} events written in {fill.Elapsed.TotalSeconds:0} s (one INSERT … SELECT generate_series), then VACUUM (ANALYZE); ") +
                "scopes interleaved: 60 % default × dev (the key's scope), 10 % in each of four other scopes; types: step_completed 40 %, step_started 30 %, " +
                "execution_started/completed 8 % each, event_accepted 6 %, trigger_fired 5 %, webhook_request 2 %, definition_created 0.5 %, " +
                "schedule_slot_fired 0.4 %, trigger_deleted 0.1 %; correlation ids shared by 10 events, streams of 20 events, 1 ms apart";
            environment["Host under test"] = $"{dll}, its own process, rate limiting off; queries sequential, one kept-alive connection";
            using var client = new HttpClient { BaseAddress = host.Url, Timeout = TimeSpan.FromSeconds(60) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", host.AdminKey);

            var middle = await MiddleAsync(connectionString);
            var shapes = new (string Name, Func<int, string> Query)[]
            {
                ("newest page (no filter)", _ => "limit=100"),
                ("oldest page", _ => "order=oldest&limit=100"),
                ("common type (step_completed)", _ => "type=executions.step_completed&limit=100"),
                ("type prefix (triggers.*)", _ => "type=triggers.*&limit=100"),
                ("rare type (trigger_deleted, 0.1 %)", _ => "type=triggers.trigger_deleted&limit=100"),
                ("one correlation id", i => $"correlation_id=corr-{i % 6}_{(i * 7919) % (total / 100)}&limit=100"),
                ("one stream", i => $"stream=bulk-{i % 6}_{(i * 104729) % (total / 200)}&limit=100"),
                ("one minute of history, newest first", _ => $"from={Uri.EscapeDataString(middle.ToString("O"))}&to={Uri.EscapeDataString(middle.AddMinutes(1).ToString("O"))}&limit=100"),
                ("actor (1 of 50)", i => $"actor=user:{i % 50}&limit=100"),
                ("page 50 by cursor (newest first)", _ => "limit=100&cursor={deep}"),
            };

            var deep = await CursorAfterPagesAsync(client, 49);
            foreach (var (shape, query) in shapes)
            {
                var latencies = new List<double>();
                long items = 0;
                string? error = null;
                for (var i = 0; i < Calls && error is null; i++)
                {
                    var q = query(i).Replace("{deep}", deep, StringComparison.Ordinal);
                    var started = Stopwatch.GetTimestamp();
                    using var response = await client.GetAsync(new Uri($"/api/v1/audit/events?{q}", UriKind.Relative));
                    var body = await response.Content.ReadAsStringAsync();
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    if (response.StatusCode != HttpStatusCode.OK) error = $"{(int)response.StatusCode} {body[..Math.Min(200, body.Length)]}";
                    else items += JsonNode.Parse(body)!["items"]!.AsArray().Count;
                }

                var result = new AuditQueryResult(shape, query(0).Replace("{deep}", "…", StringComparison.Ordinal), latencies.Count, LatencySummary.Of(latencies),
                    (double)items / Math.Max(1, latencies.Count), error);
                results.Add(result);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[audit] {shape}: p50 {result.Latency.P50Ms:0.0} ms, p99 {result.Latency.P99Ms:0.0} ms, max {result.Latency.MaxMs:0.0} ms, {result.MeanItems:0} items {error}"));
            }
        }

        return results;
    }

    private static async Task FillAsync(string connectionString, long total)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        // Scopes interleaved as in a shared store: of every ten events, six are default × dev, one each acme × dev/prod and
        // globex × dev/prod (class = g % 10). Within a class: streams of 20 events, correlation ids shared by 10; type and
        // actor drawn from g / 10, so every scope gets the same mix.
        const string sql = """
            INSERT INTO event_store.events (event_id, stream_name, category, revision, type, schema_version, data, tenant_id, environment,
                                            actor, correlation_id, causation_id, created_at)
            SELECT gen_random_uuid(), 'bulk-' || (g % 10) || '_' || (g / 200), 'bulk', (g / 10) % 20,
                   CASE WHEN (g / 10) % 1000 < 400 THEN 'executions.step_completed' WHEN (g / 10) % 1000 < 700 THEN 'executions.step_started'
                        WHEN (g / 10) % 1000 < 780 THEN 'executions.execution_started' WHEN (g / 10) % 1000 < 860 THEN 'executions.execution_completed'
                        WHEN (g / 10) % 1000 < 920 THEN 'triggers.event_accepted' WHEN (g / 10) % 1000 < 970 THEN 'triggers.trigger_fired'
                        WHEN (g / 10) % 1000 < 990 THEN 'triggers.webhook_request' WHEN (g / 10) % 1000 < 995 THEN 'definitions.definition_created'
                        WHEN (g / 10) % 1000 < 999 THEN 'triggers.schedule_slot_fired' ELSE 'triggers.trigger_deleted' END,
                   1, json_build_object('n', g, 'step', 's' || (g % 7), 'output', json_build_object('ok', true, 'value', md5(g::text))),
                   CASE WHEN g % 10 < 6 THEN 'default' WHEN g % 10 < 8 THEN 'acme' ELSE 'globex' END,
                   CASE WHEN g % 10 < 6 OR g % 10 IN (6, 8) THEN 'dev' ELSE 'prod' END,
                   'user:' || ((g / 10) % 50), 'corr-' || (g % 10) || '_' || (g / 100), 'exec_' || (g / 200), @start + (g * interval '1 millisecond')
            FROM generate_series(0, @count - 1) AS g
            """;
        await using var insert = new NpgsqlCommand(sql, connection) { CommandTimeout = 900 };
        insert.Parameters.AddWithValue("start", DateTime.UtcNow.AddHours(-(total / 3_600_000.0) - 1));
        insert.Parameters.AddWithValue("count", total);
        await insert.ExecuteNonQueryAsync();
        await using var vacuum = new NpgsqlCommand("VACUUM (ANALYZE) event_store.events", connection) { CommandTimeout = 900 };
        await vacuum.ExecuteNonQueryAsync();
    }

    private static async Task<DateTimeOffset> MiddleAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT min(created_at) + (max(created_at) - min(created_at)) / 2 FROM event_store.events WHERE category = 'bulk'", connection);
        return new DateTimeOffset(DateTime.SpecifyKind((DateTime)(await command.ExecuteScalarAsync())!, DateTimeKind.Utc));
    }

    private static async Task<string> CursorAfterPagesAsync(HttpClient client, int pages)
    {
        string? cursor = null;
        for (var i = 0; i < pages; i++)
        {
            var body = await client.GetStringAsync(new Uri("/api/v1/audit/events?limit=100" + (cursor is null ? "" : $"&cursor={cursor}"), UriKind.Relative));
            cursor = JsonNode.Parse(body)!["next_cursor"]!.GetValue<string>();
        }

        return cursor!;
    }

    public static string Render(Dictionary<string, string> environment, List<AuditQueryResult> results)
    {
        var s = new StringBuilder();
        s.AppendLine("## Audit history queries (issue 9)").AppendLine();
        foreach (var (k, v) in environment) s.AppendLine(CultureInfo.InvariantCulture, $"- **{k}**: {v}");
        s.AppendLine().AppendLine("| query | parameters | calls | p50 ms | p99 ms | max ms | items/page | p99 vs target (100 ms) |")
            .AppendLine("|---|---|--:|--:|--:|--:|--:|---|");
        foreach (var r in results)
        {
            s.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Name} | `{r.Query}` | {r.Calls} | {r.Latency.P50Ms:0.0} | {r.Latency.P99Ms:0.0} | {r.Latency.MaxMs:0.0} | {r.MeanItems:0} | " +
                $"{(r.Error is not null ? "error: " + r.Error : r.Latency.P99Ms < 100 ? "PASS" : "FAIL")} |"));
        }

        return s.ToString();
    }
}
