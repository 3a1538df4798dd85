using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;

namespace Triggers.Modular.Bench;

/// <summary>One burst of <c>--only schedules</c>: the slots of <see cref="Schedules"/> schedules due at <see cref="DueAt"/>,
/// with the firing loop deciding <see cref="Parallelism"/> schedules at once.</summary>
internal sealed record ScheduleBurst(int Parallelism, int Schedules, DateTimeOffset DueAt)
{
    public int Fired { get; init; }
    public int Duplicates { get; init; }
    public long OtherDecisions { get; init; }

    /// <summary>Slot due time → its slot_fired event's <c>at</c>, over the burst's slots.</summary>
    public LatencySummary Lag { get; init; }

    /// <summary>Fired slots ÷ (last firing − due time).</summary>
    public double FiredPerSecond { get; init; }

    /// <summary>Host CPU over the 10 s from this burst to the next (its executions included), in ms per fired slot.</summary>
    public double? HostCpuMsPerSlot { get; init; }

    public string? Error { get; init; }
}

/// <summary>
/// Issue 8 (<c>--only schedules</c>): N schedule triggers of one workflow (one <c>set</c> step), all <c>*/10 * * * * *</c>
/// (UTC, <c>allow_all</c>), so every 10 s N slots fall due at the same instant — the shape of many schedules on a common
/// cadence (every minute, the top of the hour). Per burst, from the store: slots fired (each exactly once expected), the lag
/// from the due time to the firing, and how fast the burst was fired. The host runs on PostgreSQL as its own process, once
/// per firing-loop parallelism (<c>Triggers:Schedules:Parallelism</c> = each of <c>--writers</c>): the ratio between them in
/// one run is the figure to compare.
/// </summary>
internal sealed class SchedulesBench(BenchOptions o, Dictionary<string, string> environment)
{
    private const string Cron = "*/10 * * * * *";
    private const int Bursts = 3;

    public async Task<List<ScheduleBurst>> RunAsync()
    {
        var dll = o.HostDll ?? HostProcess.LocateDll();
        var parallelisms = o.WriterCounts;
        environment["Host under test"] = $"{dll}, its own process on PostgreSQL (a fresh database per parallelism), rate limiting off, " +
                                         "Triggers:Schedules:PollSeconds 0.5 (default)";
        environment["Load"] = $"{o.Schedules:N0} schedule triggers `{Cron}` (UTC, overlap allow_all) of one workflow with one `set` step, created " +
                              $"through the API by 16 clients; then {Bursts} bursts of {o.Schedules:N0} slots due together, 10 s apart, measured " +
                              $"from the store (triggers.schedule_slot_fired: scheduled_at → at); firing-loop parallelism {string.Join(", ", parallelisms)}";
        var bursts = new List<ScheduleBurst>();
        foreach (var parallelism in parallelisms)
        {
            try
            {
                bursts.AddRange(await RunOneAsync(dll, parallelism));
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or HttpRequestException)
            {
                Console.Error.WriteLine($"[schedules] parallelism {parallelism}: {ex.Message}");
                bursts.Add(new ScheduleBurst(parallelism, o.Schedules, default) { Error = ex.Message });
            }
        }

        return bursts;
    }

    private async Task<List<ScheduleBurst>> RunOneAsync(string dll, int parallelism)
    {
        await using (var database = await BenchDatabase.CreateAsync(o.PostgresAdmin))
        {
            var connectionString = database.ConnectionString;
            await using var host = await HostProcess.StartAsync(dll, new Dictionary<string, string>
            {
                ["EventStore__Provider"] = "postgres",
                ["EventStore__Postgres__ConnectionString"] = connectionString,
                ["Triggers__Schedules__Parallelism"] = parallelism.ToString(CultureInfo.InvariantCulture),
            });
            Console.Error.WriteLine($"[schedules] parallelism {parallelism}: host at {host.Url} (pid {host.Process.Id})");
            using var client = new HttpClient { BaseAddress = host.Url, Timeout = TimeSpan.FromSeconds(60) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", host.AdminKey);

            var workflow = await CreateAsync(client, "/api/v1/workflows/definitions",
                """{ "name": "bench-schedule", "steps": [ { "id": "s", "order": 1, "type": "set", "config": { "values": { "slot": "{{ trigger.slot }}" } } } ] }""");
            var created = Stopwatch.StartNew();
            var next = 0;
            await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) <= o.Schedules)
                {
                    await CreateAsync(client, "/api/v1/triggers",
                        $$"""{ "workflow_id": "{{workflow}}", "name": "tick", "type": "schedule", "config": { "cron_expression": "{{Cron}}", "overlap_policy": "allow_all" } }""");
                }
            }));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[schedules] {o.Schedules:N0} triggers created in {created.Elapsed.TotalSeconds:0.0} s"));

            // The first burst due after every trigger exists (and the loop has seen them: one poll).
            var now = DateTimeOffset.UtcNow.AddSeconds(1);
            var first = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.FromSeconds(10).Ticks, TimeSpan.Zero).AddSeconds(10);
            var cpu = new List<TimeSpan>();
            for (var b = 0; b <= Bursts; b++)
            {
                var at = first.AddSeconds(10 * b);
                var wait = at - DateTimeOffset.UtcNow;
                if (wait > TimeSpan.Zero) await Task.Delay(wait);
                host.Process.Refresh();
                cpu.Add(host.Process.TotalProcessorTime);
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
            return await MeasureAsync(connectionString, parallelism, first, cpu);
        }
    }

    private async Task<List<ScheduleBurst>> MeasureAsync(string connectionString, int parallelism, DateTimeOffset first, List<TimeSpan> cpu)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var fired = new List<(string Stream, string Slot, DateTimeOffset Due, DateTimeOffset At)>();
        await using (var read = new NpgsqlCommand(
                         "SELECT stream_name, data->>'slot', (data->>'scheduled_at')::timestamptz, (data->>'at')::timestamptz FROM event_store.events " +
                         "WHERE type = 'triggers.schedule_slot_fired'", connection))
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                fired.Add((reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3)));
        }

        long others;
        await using (var count = new NpgsqlCommand("SELECT COUNT(*) FROM event_store.events WHERE type IN ('triggers.schedule_slot_skipped', " +
                                                   "'triggers.schedule_slots_missed', 'triggers.schedule_slot_buffered')", connection))
            others = (long)(await count.ExecuteScalarAsync())!;

        var bursts = new List<ScheduleBurst>();
        for (var b = 0; b < Bursts; b++)
        {
            var due = first.AddSeconds(10 * b);
            var slots = fired.Where(f => f.Due == due).ToList();
            var lags = slots.Select(s => (s.At - s.Due).TotalMilliseconds).ToList();
            var span = slots.Count == 0 ? 0 : slots.Max(s => s.At - s.Due).TotalSeconds;
            var burst = new ScheduleBurst(parallelism, o.Schedules, due)
            {
                Fired = slots.Count,
                Duplicates = slots.Count - slots.Select(s => (s.Stream, s.Slot)).Distinct().Count(),
                OtherDecisions = others,
                Lag = LatencySummary.Of(lags),
                FiredPerSecond = span > 0 ? slots.Count / span : 0,
                HostCpuMsPerSlot = slots.Count > 0 ? (cpu[b + 1] - cpu[b]).TotalMilliseconds / slots.Count : null,
                Error = slots.Count == o.Schedules ? null : $"{slots.Count} of {o.Schedules} slots fired",
            };
            bursts.Add(burst);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[schedules] p{parallelism} burst {due:HH:mm:ss}: {burst.Fired:N0} fired, lag p50 {burst.Lag.P50Ms:N0} ms p99 {burst.Lag.P99Ms:N0} ms " +
                $"max {burst.Lag.MaxMs:N0} ms, {burst.FiredPerSecond:N0} slots/s, host CPU {burst.HostCpuMsPerSlot:0.00} ms/slot"));
        }

        return bursts;
    }

    private static async Task<string> CreateAsync(HttpClient client, string route, string json)
    {
        using var response = await client.PostAsync(new Uri(route, UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"POST {route}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)?["id"]?.GetValue<string>() ?? throw new InvalidOperationException($"No id in {body}");
    }

    public static string Render(Dictionary<string, string> environment, List<ScheduleBurst> bursts)
    {
        var s = new StringBuilder();
        s.AppendLine("## Schedule bursts (issue 8)").AppendLine();
        foreach (var (k, v) in environment) s.AppendLine(CultureInfo.InvariantCulture, $"- **{k}**: {v}");
        s.AppendLine().AppendLine("| parallelism | schedules | burst due (UTC) | fired | duplicates | other decisions | lag p50 | lag p99 | lag max | slots/s | host CPU ms/slot |")
            .AppendLine("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var b in bursts)
        {
            s.AppendLine(b.Error is not null && b.Fired == 0
                ? $"| {b.Parallelism} | {b.Schedules} | — | error: {b.Error} | | | | | | | |"
                : string.Create(CultureInfo.InvariantCulture,
                    $"| {b.Parallelism} | {b.Schedules:N0} | {b.DueAt:HH:mm:ss} | {b.Fired:N0} | {b.Duplicates} | {b.OtherDecisions} | {b.Lag.P50Ms:N0} ms | " +
                    $"{b.Lag.P99Ms:N0} ms | {b.Lag.MaxMs:N0} ms | {b.FiredPerSecond:N0} | {b.HostCpuMsPerSlot:0.00} |"));
        }

        return s.ToString();
    }
}
