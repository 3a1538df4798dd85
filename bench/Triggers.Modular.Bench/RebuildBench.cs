using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;

namespace Triggers.Modular.Bench;

/// <summary>One rebuild of <c>--only rebuild</c>: events the projection applied and the store events its replay scanned, per
/// second, with the progress the admin API showed while it ran.</summary>
internal sealed record RebuildRun(string Mode, string State, long Applied, double Seconds, double AppliedPerSecond, double ScannedPerSecond,
    bool? Identical, IReadOnlyList<string> Samples, string? Error);

/// <summary>
/// Issue 9 (<c>--only rebuild</c>): rebuilding the executions read model beside its live table, on PostgreSQL, with
/// <c>--read-events</c> events in the store (default 1,000,000). The host runs as its own process; one real two-step run is
/// made through the API, and its stream (8 events) is copied in SQL — new execution ids, same types and payloads — until the
/// store holds the events asked for. Once every projection has caught up, the executions projection is rebuilt through
/// <c>POST /api/v1/admin/projections/executions/rebuild</c>, first switching (replacing the live table), then comparing
/// (row for row, nothing replaced); progress is polled every second. The ceiling, measured in the same run: the same
/// events read with a plain Npgsql reader over the same filter (no deserialising, no writes).
/// </summary>
internal sealed class RebuildBench(BenchOptions o, Dictionary<string, string> environment)
{
    private static readonly string[] ProjectionTypes =
    [
        "executions.execution_started", "executions.step_started", "executions.execution_completed", "executions.execution_failed",
        "executions.execution_cancelled", "executions.execution_retried",
    ];

    public async Task<List<RebuildRun>> RunAsync()
    {
        var dll = o.HostDll ?? HostProcess.LocateDll();
        var target = Math.Max(10_000, o.ReadEvents);
        var runs = new List<RebuildRun>();
        await using (var database = await BenchDatabase.CreateAsync(o.PostgresAdmin))
        {
            var connectionString = database.ConnectionString;
            await using var host = await HostProcess.StartAsync(dll, new Dictionary<string, string>
            {
                ["EventStore__Provider"] = "postgres",
                ["EventStore__Postgres__ConnectionString"] = connectionString,
            });
            using var client = new HttpClient { BaseAddress = host.Url, Timeout = TimeSpan.FromSeconds(60) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", host.AdminKey);

            var execution = await OneRunAsync(client);
            var fill = Stopwatch.StartNew();
            var (copies, perRun, total) = await FillAsync(connectionString, execution, target);
            var filled = fill.Elapsed;
            var live = Stopwatch.StartNew();
            await WaitCaughtUpAsync(client, connectionString, copies + 1, TimeSpan.FromMinutes(30));
            var caughtUp = live.Elapsed;
            environment["Store"] = string.Create(CultureInfo.InvariantCulture,
                $"{total:N0} events: one real two-step run's stream ({perRun} events) copied {copies:N0} times in SQL ({filled.TotalSeconds:0} s), " +
                $"then VACUUM (ANALYZE); the executions projection receives {ProjectionTypes.Length} of its types (4 events per run)");
            environment["Live catch-up"] = string.Create(CultureInfo.InvariantCulture,
                $"every projection and processor of the host caught up with the copied events in {caughtUp.TotalSeconds:0} s (before the rebuilds)");
            environment["Host under test"] = $"{dll}, its own process; rebuild batch 2,000 events per transaction (default)";

            var (ceilingEvents, ceilingSeconds) = await RawReadAsync(connectionString);
            environment["Ceiling"] = string.Create(CultureInfo.InvariantCulture,
                $"plain Npgsql reader over the same filter: {ceilingEvents:N0} events in {ceilingSeconds:0.0} s = {ceilingEvents / ceilingSeconds:N0} events/s");
            Console.Error.WriteLine($"[rebuild] {environment["Ceiling"]}");

            foreach (var mode in new[] { "switch", "compare" })
            {
                var run = await RebuildAsync(client, mode, total);
                runs.Add(run);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[rebuild] {mode}: {run.State}, {run.Applied:N0} events in {run.Seconds:0.0} s = {run.AppliedPerSecond:N0} applied/s, " +
                    $"{run.ScannedPerSecond:N0} store events/s {run.Error}"));
            }

            environment["Ratio to the ceiling"] = string.Join("; ", runs.Select(r => string.Create(CultureInfo.InvariantCulture,
                $"{r.Mode} {r.AppliedPerSecond / (ceilingEvents / ceilingSeconds):0.00}×")));
        }

        return runs;
    }

    private static async Task<string> OneRunAsync(HttpClient client)
    {
        var created = await client.PostAsync(new Uri("/api/v1/workflows/definitions", UriKind.Relative), new StringContent("""
            { "name": "rebuild bench", "steps": [
                { "id": "a", "type": "set", "config": { "values": { "x": 1 } } },
                { "id": "b", "type": "set", "depends_on": ["a"], "config": { "values": { "y": 2 } } } ] }
            """, Encoding.UTF8, "application/json"));
        var definition = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        var triggered = await client.PostAsJsonAsync(new Uri($"/api/v1/workflows/definitions/{definition}/trigger", UriKind.Relative), new { trigger_data = new { } });
        var execution = JsonNode.Parse(await triggered.Content.ReadAsStringAsync())!["execution_id"]!.GetValue<string>();
        for (var i = 0; i < 600; i++)
        {
            using var response = await client.GetAsync(new Uri($"/api/v1/workflows/executions/{execution}", UriKind.Relative));
            if (response.StatusCode == HttpStatusCode.OK
                && JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]!.GetValue<string>() == "completed")
                return execution;
            await Task.Delay(100);
        }

        throw new InvalidOperationException($"the template run {execution} did not complete");
    }

    /// <summary>Copies the template run's stream under new execution ids (suffix _n) in one statement, in stream order.</summary>
    private static async Task<(long Copies, long PerRun, long Total)> FillAsync(string connectionString, string execution, long target)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM event_store.events WHERE stream_name = @s", connection);
        count.Parameters.AddWithValue("s", $"execution-{execution}");
        var perRun = (long)(await count.ExecuteScalarAsync())!;
        var copies = (target + perRun - 1) / perRun;
        const string sql = """
            INSERT INTO event_store.events (event_id, stream_name, category, revision, type, schema_version, data, tenant_id, environment,
                                            actor, correlation_id, causation_id, created_at)
            SELECT gen_random_uuid(), replace(t.stream_name, @id, @id || '_' || g), t.category, t.revision, t.type, t.schema_version,
                   replace(t.data::text, @id, @id || '_' || g)::json, t.tenant_id, t.environment, t.actor,
                   t.correlation_id || '_' || g, t.causation_id, t.created_at + g * interval '1 millisecond'
            FROM generate_series(1, @copies) AS g
            CROSS JOIN (SELECT * FROM event_store.events WHERE stream_name = 'execution-' || @id) AS t
            ORDER BY g, t.revision
            """;
        await using var insert = new NpgsqlCommand(sql, connection) { CommandTimeout = 1800 };
        insert.Parameters.AddWithValue("id", execution);
        insert.Parameters.AddWithValue("copies", copies);
        await insert.ExecuteNonQueryAsync();
        await using var vacuum = new NpgsqlCommand("VACUUM (ANALYZE) event_store.events", connection) { CommandTimeout = 1800 };
        await vacuum.ExecuteNonQueryAsync();
        await using var all = new NpgsqlCommand("SELECT count(*) FROM event_store.events", connection);
        return (copies, perRun, (long)(await all.ExecuteScalarAsync())!);
    }

    /// <summary>Until the executions read model holds every run and no projection lags. (The copied events become visible to
    /// $all readers only once no older transaction is open anywhere on the cluster: lag alone could read 0 before.)</summary>
    private static async Task WaitCaughtUpAsync(HttpClient client, string connectionString, long runs, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM executions.executions", connection);
        while (DateTime.UtcNow < deadline)
        {
            var list = JsonNode.Parse(await client.GetStringAsync(new Uri("/api/v1/admin/projections", UriKind.Relative)))!["items"]!.AsArray();
            if ((long)(await count.ExecuteScalarAsync())! == runs && list.All(i => i!["lag"]!.GetValue<long>() == 0)) return;
            await Task.Delay(1000);
        }

        throw new InvalidOperationException("the host's projections did not catch up in time");
    }

    /// <summary>The read side alone: every event the projection receives, read in $all order with a plain reader.</summary>
    private static async Task<(long Events, double Seconds)> RawReadAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT tx_id, seq, event_id, stream_name, revision, type, data::text, tenant_id, environment, actor, correlation_id, causation_id, created_at " +
            "FROM event_store.events WHERE category = 'execution' AND type = ANY (@types) ORDER BY tx_id, seq", connection) { CommandTimeout = 1800 };
        command.Parameters.AddWithValue("types", ProjectionTypes);
        var started = Stopwatch.StartNew();
        long events = 0;
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                events++;
                _ = reader.GetString(6); // the payload is materialised, as the store's reader does
            }
        }

        return (events, Math.Max(0.001, started.Elapsed.TotalSeconds));
    }

    private static async Task<RebuildRun> RebuildAsync(HttpClient client, string mode, long total)
    {
        var uri = new Uri("/api/v1/admin/projections/executions/rebuild", UriKind.Relative);
        using var started = await client.PostAsJsonAsync(uri, new { mode });
        if (started.StatusCode != HttpStatusCode.Accepted)
            return new RebuildRun(mode, "refused", 0, 0, 0, 0, null, [], $"{(int)started.StatusCode} {await started.Content.ReadAsStringAsync()}");
        var samples = new List<string>();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            await Task.Delay(1000);
            var view = JsonNode.Parse(await client.GetStringAsync(uri))!;
            var state = view["state"]!.GetValue<string>();
            samples.Add(string.Create(CultureInfo.InvariantCulture,
                $"{clock.Elapsed.TotalSeconds:0} s: {state} {view["percent"]!.GetValue<double>():0.0} %, {view["applied"]!.GetValue<long>():N0} events, {view["events_per_second"]!.GetValue<double>():N0}/s"));
            if (state is "building" or "finishing") continue;
            var seconds = (DateTimeOffset.Parse(view["finished_at"]!.GetValue<string>(), CultureInfo.InvariantCulture)
                           - DateTimeOffset.Parse(view["started_at"]!.GetValue<string>(), CultureInfo.InvariantCulture)).TotalSeconds;
            var applied = view["applied"]!.GetValue<long>();
            return new RebuildRun(mode, state, applied, seconds, applied / seconds, total / seconds, view["identical"]?.GetValue<bool>(), samples,
                view["error"]?.GetValue<string>());
        }
    }

    public static string Render(Dictionary<string, string> environment, List<RebuildRun> runs)
    {
        var s = new StringBuilder();
        s.AppendLine("## Projection rebuild (issue 9)").AppendLine();
        foreach (var (k, v) in environment) s.AppendLine(CultureInfo.InvariantCulture, $"- **{k}**: {v}");
        s.AppendLine().AppendLine("| mode | outcome | events applied | seconds | applied events/s | store events/s scanned | vs target (≥ 50,000/s) |")
            .AppendLine("|---|---|--:|--:|--:|--:|---|");
        foreach (var r in runs)
        {
            var outcome = r.Error ?? (r.Identical is { } same ? (same ? "identical" : "DIFFERENT") : r.State);
            s.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Mode} | {outcome} | {r.Applied:N0} | {r.Seconds:0.0} | {r.AppliedPerSecond:N0} | {r.ScannedPerSecond:N0} | " +
                $"{(r.AppliedPerSecond >= 50_000 ? "PASS" : "FAIL")} |"));
        }

        s.AppendLine().AppendLine("Progress as the admin API showed it, every second:").AppendLine();
        foreach (var r in runs)
            s.AppendLine(CultureInfo.InvariantCulture, $"- {r.Mode}: {string.Join("; ", r.Samples)}");
        return s.ToString();
    }
}
