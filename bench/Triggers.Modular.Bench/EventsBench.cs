using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Triggers.Modular.BuildingBlocks.EventStore.Postgres;

namespace Triggers.Modular.Bench;

/// <summary>CPU in % of one core over a window: the bench, the host, PostgreSQL (the bench database's backends and the
/// server's auxiliary processes), everything else on the machine.</summary>
internal readonly record struct CpuShare(double Bench, double Host, double? Postgres, double? Other);

/// <summary>Nearest-rank percentiles of a set of durations, in milliseconds.</summary>
internal readonly record struct LatencySummary(int Count, double P50Ms, double P99Ms, double MaxMs)
{
    public static LatencySummary Of(List<double> values)
    {
        if (values.Count == 0) return default;
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return new LatencySummary(sorted.Length, Rank(sorted, 0.50), Rank(sorted, 0.99), sorted[^1]);
    }

    private static double Rank(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>One measured phase of <c>--only events</c>: the load (closed loop, open loop or batches), then what routing and
/// the executions made of the phase's accepted events, read from the store.</summary>
internal sealed record EventsPhase(string Name, string Mode, int Clients)
{
    /// <summary>Open loop only: the events/s the schedule asked for.</summary>
    public double? TargetRate { get; init; }

    public double WindowSeconds { get; init; }

    /// <summary>Requests sent in the window (open loop: every scheduled send; batch: requests of 100 events).</summary>
    public long Requests { get; init; }

    /// <summary>Events answered 202 (accepted) in the window; their ids are the phase's events in the store.</summary>
    public long Accepted { get; init; }

    public long Errors { get; init; }
    public string ErrorKinds { get; init; } = "";
    public double AcceptedPerSecond { get; init; }

    /// <summary>Accept latency, client side. Closed loop: request start → response. Open loop: <em>scheduled</em> send time →
    /// response, so time spent waiting for a free worker counts.</summary>
    public LatencySummary Accept { get; init; }

    /// <summary>Open loop only: actual send → response.</summary>
    public LatencySummary? Service { get; init; }

    /// <summary>Open loop only: actual send − scheduled send (timer slop and waiting for a free worker).</summary>
    public LatencySummary? SendLag { get; init; }

    /// <summary>Open loop only, per second of the schedule (by due time): sends, accept latency from the due time, and
    /// the largest send lag — whether a queue built up steadily or in one stall.</summary>
    public IReadOnlyList<(int Second, int Sends, LatencySummary FromDue, LatencySummary Service, double MaxLagMs)> Timeline { get; init; } = [];

    /// <summary>At the end of the window (one SQL query right after the last response): phase events without a routing
    /// decision yet; fired ones whose execution has not started yet; and accepted ids not found in the store at all.</summary>
    public (long Undecided, long NotStarted, long Missing) LagAtEnd { get; init; }

    public double LagQueryMs { get; init; }
    public bool Drained { get; init; }

    /// <summary>Not drained: what was still undecided / not started when the deadline passed.</summary>
    public (long Undecided, long NotStarted) LeftAtDeadline { get; init; }

    /// <summary>Last decision's / last start's created_at − the window's end (server clock = bench clock, same machine).</summary>
    public double? DecidedDrainSeconds { get; init; }

    public double? StartedDrainSeconds { get; init; }

    /// <summary>Accepted → decision (trigger_fired appended), accepted → execution_started (dispatch), fired → started,
    /// from the store's created_at of each phase event.</summary>
    public LatencySummary Routing { get; init; }

    public LatencySummary Dispatch { get; init; }
    public LatencySummary Start { get; init; }

    public long Fired { get; init; }

    /// <summary>Decisions other than trigger_fired (skipped / unrouted): 0 expected.</summary>
    public long OtherDecisions { get; init; }

    /// <summary>execution_started whose causation_id is not the event's id, or a first execution event of another type: 0 expected.</summary>
    public long Mismatches { get; init; }

    /// <summary>Decisions / starts with created_at inside the window ÷ window; after it ÷ (last one − window end).</summary>
    public double DecidedPerSecondInWindow { get; init; }

    public double DecidedPerSecondAfter { get; init; }
    public double StartedPerSecondInWindow { get; init; }
    public double StartedPerSecondAfter { get; init; }

    public CpuShare WindowCpu { get; init; }
    public CpuShare DrainCpu { get; init; }
    public double DrainWallSeconds { get; init; }

    /// <summary>CPU ms per accepted event from the window's start until drained (or the deadline): bench, host, PostgreSQL.</summary>
    public (double Bench, double Host, double? Postgres) CpuMsPerEvent { get; init; }

    /// <summary>pg_stat_database of the bench database from the window's start until caught up, per accepted event:
    /// transactions (read-only included), rows inserted, updated, deleted, read (returned + fetched).</summary>
    public (double Transactions, double Inserted, double Updated, double Deleted, double Read)? DatabasePerEvent { get; init; }

    /// <summary>pg_stat_user_tables over the same span per accepted event, the tables read most first: sequential scans,
    /// rows they read, index scans, rows fetched through indexes.</summary>
    public IReadOnlyList<(string Table, double SeqScans, double SeqRows, double IndexScans, double IndexRows)> TablesPerEvent { get; init; } = [];

    public PhaseResult? Ceiling { get; init; }
    public long HostErrorLines { get; init; }
    public string? HostLastError { get; init; }
    public string Note { get; init; } = "";
    public string? Error { get; init; }
}

/// <summary>
/// Issue 6 (<c>--only events</c>): the events API on PostgreSQL through the real host (its own process, like
/// <see cref="ExecutionsBench"/>), with one definition whose declared <c>event</c> trigger listens to the events sent, so
/// routing (the dispatcher) and the executions it fires run as in production. Phases: the raw 1-row insert ceiling in the
/// same database before the host starts; closed-loop acceptance (N clients sending single events as fast as they can);
/// an open loop at a fixed rate (sends on a schedule; accept latency from the scheduled time, dispatch latency from the
/// store); batches of 100 from 4 clients. After each phase the bench reads from the store how far routing and the
/// executions lagged when the window closed, and waits (with a deadline) until they caught up.
/// </summary>
internal sealed class EventsBench(BenchOptions o, List<EventsPhase> phases, Dictionary<string, string> environment)
{
    private const string Backend = "PostgreSQL";
    private const string EventsRoute = "/api/v1/events";
    private const string DefinitionsRoute = "/api/v1/workflows/definitions";
    public const string EventName = "bench.event";
    public const int BatchSize = 100;
    public const int BatchClients = 4;
    /// <summary>Untimed sends before the first phase (JIT tiers, pools, plans), routed and drained. 5 s left the first
    /// closed-loop phase with 1.3–1.5× the host CPU per event of the phases after it in a run.</summary>
    private static readonly TimeSpan MinWarmup = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan IdleWindow = TimeSpan.FromSeconds(5);

    /// <summary>How many of the last accepted events the drain poll probes before checking them all: the dispatcher
    /// and the executions processor follow $all in order, so when the last ones are done nearly all are.</summary>
    private const int TailProbe = 16;

    public static readonly string DefinitionJson = $$$"""
        {
          "name": "bench-event-listener",
          "trigger": { "type": "event", "event_name": "{{{EventName}}}" },
          "steps": [ { "id": "s", "order": 1, "type": "set", "config": { "values": { "n": "{{ trigger.n }}" } } } ]
        }
        """;

    private double[] Rates => o.Rates ?? [1_000];

    private TimeSpan DrainDeadline => TimeSpan.FromSeconds(Math.Max(120, 30 * o.Duration.TotalSeconds));

    /// <summary>Open-loop workers, one connection each: enough to keep ~30 ms of sends in flight, 8 to 32. Not more: each
    /// request in flight holds one of the host's PostgreSQL connections, and 100 workers exhausted the shared server's
    /// max_connections = 100 in a run (53300 "remaining connection slots are reserved", HTTP 500s, sends queued for seconds).</summary>
    public static int OpenLoopWorkers(double rate) => Math.Clamp((int)Math.Ceiling(rate / 33), 8, 32);

    public async Task RunAsync()
    {
        var dll = o.HostDll ?? HostProcess.LocateDll();
        environment["Host under test"] = $"{dll}, started with `dotnet`; Kestrel HTTP/1.1 on 127.0.0.1, ASPNETCORE_ENVIRONMENT=Production, " +
                                         $"rate limiting off, Serilog minimum level Warning; {HttpBench.HostGc(dll)}; first-run admin key";
        environment["Routing"] = $"one definition, declared trigger `{{ type: event, event_name: {EventName} }}`, one `set` step " +
                                 "(n = trigger.n): every accepted event is routed (triggers.trigger_fired appended to its stream) " +
                                 "and starts one execution (executions.execution_started, causation_id = the event id); the dispatcher " +
                                 "(triggers-dispatcher) and the starter (executions-triggered) are event processors on the projection " +
                                 "runner like the host's other projections: once caught up, each takes pages (up to 500 events) from the " +
                                 "host's shared $all reader, woken by its reads (500 ms poll otherwise), handles a page's events 64 at a " +
                                 "time and writes its checkpoint lazily (ADR 0013); appends made at the same time share a transaction " +
                                 "(group commit, 4 committers)";
        environment["Clients"] = "one HttpClient + SocketsHttpHandler per client / open-loop worker, one kept-alive HTTP/1.1 connection each, " +
                                 $"body `{{\"name\":\"{EventName}\",\"payload\":{{\"n\":…}}}}`; on the same machine as the host and PostgreSQL";
        environment["Phases"] = $"raw ceiling: warm-up {o.Warmup.TotalSeconds:0.#} s + {o.Duration.TotalSeconds:0.#} s at {string.Join("/", o.WriterCounts)} writers; " +
                                $"host warm-up: ≥ {MinWarmup.TotalSeconds:0} s of closed-loop sends (routed and drained), then VACUUM (ANALYZE); " +
                                $"then each phase {o.Duration.TotalSeconds:0.#} s: closed loop at {string.Join("/", o.WriterCounts)} clients, " +
                                $"open loop at {string.Join(", ", Rates.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r:N0} events/s ({OpenLoopWorkers(r)} workers)")))}, batches of {BatchSize} from {BatchClients} clients; " +
                                $"after each, routing and executions awaited (deadline {DrainDeadline.TotalSeconds:0} s) before the next";
        environment["SQLite"] = "not measured (PostgreSQL only; the dispatch SQL reads event_store.events)";

        var databases = new List<string>();
        try
        {
            var name = await CreateDatabaseAsync(databases);
            var connectionString = new NpgsqlConnectionStringBuilder(o.PostgresAdmin) { Database = name }.ConnectionString;
            CpuSample.PostgresDatabase = name;
            await using var dataSource = PostgresStoreDatabase.CreateDataSource(connectionString);
            await DescribePostgresAsync(dataSource);

            // The ceiling first, before the host runs, in the database the host will use (as the executions bench does).
            await using (var cmd = dataSource.CreateCommand(PostgresBench.RawTableSql))
                await cmd.ExecuteNonQueryAsync();
            var ceilings = new Dictionary<int, PhaseResult?>();
            foreach (var writers in o.WriterCounts.Append(BatchClients).Distinct())
            {
                var own = await Phase.RunAsync(Backend, "raw INSERT, 1 row, autocommit, own connection", writers, o.Warmup, o.Duration,
                    w => PostgresBench.RawWriterAsync(dataSource, w, batch: 1, pooled: false), "one connection kept open per writer");
                await PostgresBench.CheckpointAsync(dataSource);
                var pooled = await Phase.RunAsync(Backend, "raw INSERT, 1 row, autocommit, pool open/close per insert", writers, o.Warmup,
                    o.Duration, w => PostgresBench.RawWriterAsync(dataSource, w, batch: 1, pooled: true), "as the store opens connections");
                await PostgresBench.CheckpointAsync(dataSource);
                ceilings[writers] = new[] { own, pooled }.Where(r => r.Error is null).MaxBy(r => r.EventsPerSecond);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[events] raw 1-row insert ceiling @{writers}: own {own.EventsPerSecond:N0}/s, pooled {pooled.EventsPerSecond:N0}/s {own.Error}{pooled.Error}"));
            }

            dataSource.Clear();
            await using var host = await HostProcess.StartAsync(dll, new Dictionary<string, string>
            {
                ["EventStore__Provider"] = "postgres",
                ["EventStore__Postgres__ConnectionString"] = connectionString,
            });
            Console.Error.WriteLine($"[events] host at {host.Url} (pid {host.Process.Id})");
            await using var tracker = new CpuTracker(name, host.Process);
            await RunPhasesAsync(host, dataSource, ceilings, tracker);
        }
        catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException)
        {
            Console.Error.WriteLine($"[events] PostgreSQL: {ex.Message}");
            environment["PostgreSQL"] = $"not run: {ex.Message}";
        }
        finally
        {
            CpuSample.PostgresDatabase = null;
            NpgsqlConnection.ClearAllPools();
            if (databases.Count > 0)
            {
                await using var admin = new NpgsqlConnection(o.PostgresAdmin);
                await admin.OpenAsync();
                foreach (var name in databases)
                {
                    await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
                    await drop.ExecuteNonQueryAsync();
                    Console.Error.WriteLine($"[events] dropped database {name}");
                }
            }
        }
    }

    private async Task RunPhasesAsync(HostProcess host, NpgsqlDataSource dataSource, Dictionary<int, PhaseResult?> ceilings, CpuTracker cpu)
    {
        var key = host.AdminKey;
        await CreateListenerAsync(host, key, dataSource);

        // Warm-up: the whole path (acceptance, routing, executions, projections), drained so no backlog carries over.
        var clients = o.WriterCounts.Max();
        var warmIds = new ConcurrentBag<Sent>();
        var warmErrors = new ErrorKinds();
        var warmup = o.Warmup > MinWarmup ? o.Warmup : MinWarmup;
        await Phase.RunAsync(Backend, "warm-up", clients, TimeSpan.Zero, warmup, Senders(host, key, warmIds, warmErrors));
        var warmStreams = Ordered(warmIds);
        var warmStarted = Stopwatch.GetTimestamp();
        var (warmDrained, _) = await AwaitDrainedAsync(dataSource, host, warmStreams);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[events] warm-up: {warmIds.Count:N0} accepted in {warmup.TotalSeconds:0} s, routed and started {(warmDrained ? "" : "NOT ")}" +
            $"within {Stopwatch.GetElapsedTime(warmStarted).TotalSeconds:0.0} s {warmErrors.Describe()}"));
        environment["Warm-up"] = string.Create(CultureInfo.InvariantCulture,
            $"{warmIds.Count:N0} events accepted in {warmup.TotalSeconds:0} s from {clients} clients; routing and executions " +
            $"{(warmDrained ? "caught up" : "had NOT caught up")} {Stopwatch.GetElapsedTime(warmStarted).TotalSeconds:0.0} s after the last send");
        // Steady state, as in the executions bench: fresh statistics, cached plans made again against the real tables.
        await using (var vacuum = dataSource.CreateCommand("VACUUM (ANALYZE)"))
            await vacuum.ExecuteNonQueryAsync();
        await PostgresBench.CheckpointAsync(dataSource);
        await Task.Delay(StatsFlushDelay); // the warm-up's statistics flushed before the first phase reads its baseline

        // The floor: what the host and PostgreSQL use with nothing sent (pollers, timers), beside what each phase uses.
        var idle0 = cpu.Snapshot();
        await Task.Delay(IdleWindow);
        var idle = cpu.Snapshot().Since(idle0);
        environment["Idle host"] = string.Create(CultureInfo.InvariantCulture,
            $"{IdleWindow.TotalSeconds:0} s with nothing sent, after the warm-up was routed: bench {idle.Bench:N0} %, host {idle.Host:N0} %, " +
            $"PostgreSQL {idle.Postgres:N0} %, other {idle.Other:N0} % of a core");

        foreach (var writers in o.WriterCounts)
        {
            phases.Add(await MeasureAsync(new EventsPhase("closed loop", "POST /api/v1/events", writers) { Ceiling = ceilings[writers] },
                host, dataSource, cpu, (sent, errors) => ClosedLoopAsync(host, key, writers, sent, errors)));
        }

        foreach (var rate in Rates)
        {
            phases.Add(await MeasureAsync(new EventsPhase("open loop", "POST /api/v1/events", OpenLoopWorkers(rate)) { TargetRate = rate },
                host, dataSource, cpu, (sent, errors) => OpenLoopAsync(host, key, rate, sent, errors)));
        }

        phases.Add(await MeasureAsync(new EventsPhase("batches", $"POST /api/v1/events/batch, {BatchSize} events", BatchClients)
            { Ceiling = ceilings[BatchClients] }, host, dataSource, cpu, (sent, errors) => BatchesAsync(host, key, sent, errors)));
    }

    /// <summary>An accepted event: its id and when its 202 arrived (Stopwatch ticks), to order the drain probe.</summary>
    private readonly record struct Sent(string EventId, long At);

    private static string[] Ordered(IEnumerable<Sent> sent) => [.. sent.OrderBy(s => s.At).Select(s => StreamFor(s.EventId))];

    private static string StreamFor(string eventId) => $"event-{eventId}";

    private async Task<EventsPhase> MeasureAsync(EventsPhase result, HostProcess host, NpgsqlDataSource dataSource, CpuTracker cpu,
        Func<ConcurrentBag<Sent>, ErrorKinds, Task<Func<EventsPhase, EventsPhase>>> load)
    {
        try
        {
            var (errorLinesBefore, _) = host.LoggedProblems;
            var stats0 = await ExecutionsBench.DatabaseStatsAsync(dataSource);
            var tables0 = await ExecutionsBench.TableStatsAsync(dataSource);
            var sent = new ConcurrentBag<Sent>();
            var errors = new ErrorKinds();
            var cpu0 = cpu.Snapshot();
            var windowStartUtc = DateTime.UtcNow;
            var started = Stopwatch.GetTimestamp();
            var fill = await load(sent, errors);
            var windowEndUtc = DateTime.UtcNow;
            var windowWall = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var cpu1 = cpu.Snapshot();
            result = fill(result) with { Errors = errors.Total, ErrorKinds = errors.Describe() };

            var streams = Ordered(sent);
            var lagWatch = Stopwatch.GetTimestamp();
            var lag = await LagAsync(dataSource, streams);
            var lagMs = Stopwatch.GetElapsedTime(lagWatch).TotalMilliseconds;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[events] {result.Name} @{result.Clients}: {result.Accepted:N0} accepted ({result.AcceptedPerSecond:N0}/s), accept p50 " +
                $"{result.Accept.P50Ms:0.0} ms p99 {result.Accept.P99Ms:0.0} ms; at the window's end {lag.Undecided:N0} undecided, " +
                $"{lag.NotStarted:N0} fired but not started {errors.Describe()}"));

            var (drained, left) = await AwaitDrainedAsync(dataSource, host, streams);
            var drainWall = Stopwatch.GetElapsedTime(started).TotalSeconds - windowWall;
            var cpu2 = cpu.Snapshot();
            // Backends flush their statistics when idle, at the latest 10 s later (PostgreSQL 15): wait that out.
            await Task.Delay(StatsFlushDelay);
            var stats1 = await ExecutionsBench.DatabaseStatsAsync(dataSource);
            var tables1 = await ExecutionsBench.TableStatsAsync(dataSource);
            var timings = await TimingsAsync(dataSource, streams);
            var (errorLinesAfter, _) = host.LoggedProblems;

            var windowStart = result.TargetRate is null ? windowStartUtc : windowEndUtc.AddSeconds(-result.WindowSeconds);
            var decided = timings.Where(t => t.Decided is not null).Select(t => t.Decided!.Value).ToList();
            var startedAt = timings.Where(t => t.Started is not null).Select(t => t.Started!.Value).ToList();
            var all = cpu2.SecondsSince(cpu0);
            var accepted = Math.Max(1, result.Accepted);
            result = result with
            {
                LagAtEnd = lag,
                LagQueryMs = lagMs,
                Drained = drained,
                LeftAtDeadline = left,
                DecidedDrainSeconds = decided.Count > 0 ? Math.Max(0, (decided.Max() - windowEndUtc).TotalSeconds) : null,
                StartedDrainSeconds = startedAt.Count > 0 ? Math.Max(0, (startedAt.Max() - windowEndUtc).TotalSeconds) : null,
                Routing = LatencySummary.Of([.. timings.Where(t => t.Decided is not null).Select(t => (t.Decided!.Value - t.Accepted).TotalMilliseconds)]),
                Dispatch = LatencySummary.Of([.. timings.Where(t => t.Started is not null).Select(t => (t.Started!.Value - t.Accepted).TotalMilliseconds)]),
                Start = LatencySummary.Of([.. timings.Where(t => t.Started is not null).Select(t => (t.Started!.Value - t.Decided!.Value).TotalMilliseconds)]),
                Fired = timings.Count(t => t.Fired),
                OtherDecisions = timings.Count(t => t.Decided is not null && !t.Fired),
                Mismatches = timings.Count(t => t.Mismatch),
                DecidedPerSecondInWindow = Rate(decided, windowStart, windowEndUtc),
                DecidedPerSecondAfter = RateAfter(decided, windowEndUtc),
                StartedPerSecondInWindow = Rate(startedAt, windowStart, windowEndUtc),
                StartedPerSecondAfter = RateAfter(startedAt, windowEndUtc),
                WindowCpu = cpu1.Since(cpu0),
                DrainCpu = cpu2.Since(cpu1),
                DrainWallSeconds = drainWall,
                CpuMsPerEvent = (all.Bench * 1000 / accepted, all.Host * 1000 / accepted, all.Postgres * 1000 / accepted),
                DatabasePerEvent = ((stats1.Transactions - stats0.Transactions) / (double)accepted, (stats1.Inserted - stats0.Inserted) / (double)accepted,
                    (stats1.Updated - stats0.Updated) / (double)accepted, (stats1.Deleted - stats0.Deleted) / (double)accepted,
                    (stats1.Read - stats0.Read) / (double)accepted),
                TablesPerEvent = tables1
                    .Select(a => tables0.TryGetValue(a.Key, out var b) ? (a.Key, a.Value.SeqScans - b.SeqScans, a.Value.SeqRows - b.SeqRows,
                        a.Value.IndexScans - b.IndexScans, a.Value.IndexRows - b.IndexRows) : (a.Key, a.Value.SeqScans, a.Value.SeqRows, a.Value.IndexScans, a.Value.IndexRows))
                    .Select(t => (t.Key, t.Item2 / (double)accepted, t.Item3 / (double)accepted, t.Item4 / (double)accepted, t.Item5 / (double)accepted))
                    .OrderByDescending(t => t.Item3 + t.Item5).Take(6).ToList(),
                HostErrorLines = errorLinesAfter - errorLinesBefore,
                HostLastError = errorLinesAfter > errorLinesBefore ? host.LastError : null,
                Error = host.Process.HasExited ? $"host exited (code {host.Process.ExitCode})"
                    : drained ? null : $"routing / executions not caught up within {DrainDeadline.TotalSeconds:0} s",
            };
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[events] {result.Name} @{result.Clients}: dispatch p50 {result.Dispatch.P50Ms:N0} ms p99 {result.Dispatch.P99Ms:N0} ms " +
                $"max {result.Dispatch.MaxMs:N0} ms; routed {result.DecidedPerSecondInWindow:N0}/s in the window, {result.DecidedPerSecondAfter:N0}/s after; " +
                $"drained {(drained ? "yes" : "NO")} after {drainWall:0.0} s; CPU host {result.WindowCpu.Host:N0} % PostgreSQL {result.WindowCpu.Postgres:N0} % {result.Error}"));

            // Before the next phase: statistics flushed, dirty pages written, so a phase does not pay for the one before.
            await PostgresBench.CheckpointAsync(dataSource);
            return result;
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or JsonException or TaskCanceledException or NpgsqlException)
        {
            Console.Error.WriteLine($"[events] {result.Name} @{result.Clients} failed: {ex.Message}\n  host's last error: {host.LastError}");
            return result with { Error = $"{ex.GetType().Name}: {ex.Message}", HostLastError = host.LastError };
        }
    }

    private static double Rate(List<DateTime> times, DateTime from, DateTime to)
    {
        var seconds = (to - from).TotalSeconds;
        return seconds > 0 ? times.Count(t => t >= from && t <= to) / seconds : 0;
    }

    private static double RateAfter(List<DateTime> times, DateTime windowEnd)
    {
        var after = times.Where(t => t > windowEnd).ToList();
        if (after.Count < 2) return 0;
        var seconds = (after.Max() - windowEnd).TotalSeconds;
        return seconds > 0 ? after.Count / seconds : 0;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Loads
    // ---------------------------------------------------------------------------------------------------------------

    private async Task<Func<EventsPhase, EventsPhase>> ClosedLoopAsync(HostProcess host, string key, int clients, ConcurrentBag<Sent> sent,
        ErrorKinds errors)
    {
        var phase = await Phase.RunAsync(Backend, "closed loop", clients, TimeSpan.Zero, o.Duration, Senders(host, key, sent, errors));
        if (phase.Error is not null) throw new InvalidOperationException(phase.Error);
        return r => r with
        {
            WindowSeconds = phase.Seconds,
            Requests = phase.Ops,
            Accepted = sent.Count,
            AcceptedPerSecond = phase.EventsPerSecond,
            Accept = new LatencySummary((int)phase.Ops, phase.P50Ms, phase.P99Ms, double.NaN),
        };
    }

    private async Task<Func<EventsPhase, EventsPhase>> BatchesAsync(HostProcess host, string key, ConcurrentBag<Sent> sent, ErrorKinds errors)
    {
        var phase = await Phase.RunAsync(Backend, "batches", BatchClients, TimeSpan.Zero, o.Duration, BatchSenders(host, key, sent, errors));
        if (phase.Error is not null) throw new InvalidOperationException(phase.Error);
        return r => r with
        {
            WindowSeconds = phase.Seconds,
            Requests = phase.Ops,
            Accepted = sent.Count,
            AcceptedPerSecond = phase.EventsPerSecond,
            Accept = new LatencySummary((int)phase.Ops, phase.P50Ms, phase.P99Ms, double.NaN),
        };
    }

    /// <summary>
    /// Sends on a fixed schedule: send i is due at t0 + i / rate. Each worker takes the next due send, waits for its time
    /// (a timer, rounded up to the millisecond, so never early), sends and waits for the answer. When every worker is busy,
    /// sends go out late and that delay counts in the accept latency (measured from the scheduled time).
    /// </summary>
    private async Task<Func<EventsPhase, EventsPhase>> OpenLoopAsync(HostProcess host, string key, double rate, ConcurrentBag<Sent> sent,
        ErrorKinds errors)
    {
        var workers = OpenLoopWorkers(rate);
        var total = (long)Math.Round(rate * o.Duration.TotalSeconds);
        var clients = new HttpClient[workers];
        for (var i = 0; i < workers; i++) clients[i] = HttpBench.NewClient(host.Url);
        try
        {
            // One connection per worker, opened before the schedule starts.
            await Task.WhenAll(clients.Select(async c =>
            {
                using var response = await c.GetAsync(new Uri("/health/live", UriKind.Relative));
            }));

            var threadsBefore = (Host: Threads(host.Process.Id), Bench: ThreadPool.ThreadCount);
            var ticksPerSend = Stopwatch.Frequency / rate;
            var t0 = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 10);
            long next = -1;
            long lastDone = t0;
            var fromSchedule = new List<double>[workers];
            var service = new List<double>[workers];
            var lag = new List<double>[workers];
            var bySecond = new ConcurrentBag<(int Second, double FromDueMs, double ServiceMs, double LagMs)>();
            var toMs = 1000.0 / Stopwatch.Frequency;
            await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
            {
                var client = clients[w];
                var mineSchedule = fromSchedule[w] = new List<double>(1024);
                var mineService = service[w] = new List<double>(1024);
                var mineLag = lag[w] = new List<double>(1024);
                while (true)
                {
                    var i = Interlocked.Increment(ref next);
                    if (i >= total) break;
                    var due = t0 + (long)(i * ticksPerSend);
                    var wait = due - Stopwatch.GetTimestamp();
                    if (wait > 0) await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait * toMs)));
                    var sentAt = Stopwatch.GetTimestamp();
                    await SendOneAsync(client, key, i, sent, errors);
                    var done = Stopwatch.GetTimestamp();
                    mineSchedule.Add((done - due) * toMs);
                    mineService.Add((done - sentAt) * toMs);
                    mineLag.Add((sentAt - due) * toMs);
                    bySecond.Add(((int)(i / rate), (done - due) * toMs, (done - sentAt) * toMs, (sentAt - due) * toMs));
                    InterlockedMax(ref lastDone, done);
                }
            })));

            var window = (Interlocked.Read(ref lastDone) - t0) / (double)Stopwatch.Frequency;
            var threadsAfter = (Host: Threads(host.Process.Id), Bench: ThreadPool.ThreadCount);
            return r => r with
            {
                WindowSeconds = window,
                Requests = total,
                Accepted = sent.Count,
                AcceptedPerSecond = window > 0 ? sent.Count / window : 0,
                Accept = LatencySummary.Of([.. fromSchedule.SelectMany(l => l)]),
                Service = LatencySummary.Of([.. service.SelectMany(l => l)]),
                SendLag = LatencySummary.Of([.. lag.SelectMany(l => l)]),
                Timeline = [.. bySecond.GroupBy(b => b.Second).OrderBy(g => g.Key).Select(g =>
                    (g.Key, g.Count(), LatencySummary.Of([.. g.Select(b => b.FromDueMs)]), LatencySummary.Of([.. g.Select(b => b.ServiceMs)]),
                        g.Max(b => b.LagMs)))],
                Note = string.Create(CultureInfo.InvariantCulture,
                    $"{total:N0} sends scheduled every {1000 / rate:0.###} ms from {workers} workers; the window runs from the first due send to the last answer; " +
                    $"threads before → after: host process {threadsBefore.Host} → {threadsAfter.Host}, bench thread pool {threadsBefore.Bench} → {threadsAfter.Bench}"),
            };
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }

    /// <summary>The process's thread count from /proc/{pid}/status; -1 when unreadable.</summary>
    private static int Threads(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("Threads:", StringComparison.Ordinal));
            return line is null ? -1 : int.Parse(line["Threads:".Length..].Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return -1;
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while ((current = Interlocked.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    /// <summary>One client per loop; an operation is one event sent, 1 when it was accepted (202 with an event_id).</summary>
    private static Func<int, Task<Writer>> Senders(HostProcess host, string key, ConcurrentBag<Sent> sent, ErrorKinds errors) => w =>
    {
        var client = HttpBench.NewClient(host.Url);
        long sequence = 0;
        return Task.FromResult(new Writer(() => SendOneAsync(client, key, (w * 10_000_000L) + sequence++, sent, errors), () =>
        {
            client.Dispose();
            return ValueTask.CompletedTask;
        }));
    };

    private static async Task<int> SendOneAsync(HttpClient client, string key, long n, ConcurrentBag<Sent> sent, ErrorKinds errors)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, EventsRoute)
        {
            Content = new StringContent(string.Create(CultureInfo.InvariantCulture, $$$"""{"name":"{{{EventName}}}","payload":{"n":{{{n}}}}}"""),
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (await HttpBench.AcceptedIdAsync(client, request, "event_id", errors) is not { } id) return 0;
        sent.Add(new Sent(id, Stopwatch.GetTimestamp()));
        return 1;
    }

    /// <summary>One client per loop; an operation is one batch of <see cref="BatchSize"/> events, counting the accepted ones.</summary>
    private static Func<int, Task<Writer>> BatchSenders(HostProcess host, string key, ConcurrentBag<Sent> sent, ErrorKinds errors) => w =>
    {
        var client = HttpBench.NewClient(host.Url);
        long sequence = 0;
        return Task.FromResult(new Writer(async () =>
        {
            var body = new StringBuilder("{\"events\":[");
            for (var i = 0; i < BatchSize; i++)
            {
                if (i > 0) body.Append(',');
                body.Append(CultureInfo.InvariantCulture, $$$"""{"name":"{{{EventName}}}","payload":{"n":{{{(w * 10_000_000L) + sequence++}}}}}""");
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, $"{EventsRoute}/batch")
            {
                Content = new StringContent(body.Append("]}").ToString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            try
            {
                using var response = await client.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    var type = HttpBench.ProblemType(text);
                    errors.Add($"{(int)response.StatusCode} {type}", type.Length > 0 ? null : text);
                    return 0;
                }

                var accepted = 0;
                var at = Stopwatch.GetTimestamp();
                foreach (var item in JsonNode.Parse(text)?["results"]?.AsArray() ?? [])
                {
                    if (item?["status"]?.GetValue<string>() == "accepted" && item["event_id"]?.GetValue<string>() is { } id)
                    {
                        sent.Add(new Sent(id, at));
                        accepted++;
                    }
                    else
                    {
                        errors.Add("rejected in batch", item?.ToJsonString());
                    }
                }

                return accepted;
            }
            catch (HttpRequestException ex)
            {
                errors.Add(ex.HttpRequestError.ToString(), ex.Message);
                return 0;
            }
            catch (TaskCanceledException ex)
            {
                errors.Add("timeout", ex.Message);
                return 0;
            }
        }, () =>
        {
            client.Dispose();
            return ValueTask.CompletedTask;
        }));
    };

    private static async Task CreateListenerAsync(HostProcess host, string key, NpgsqlDataSource dataSource)
    {
        using (var client = HttpBench.NewClient(host.Url))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, DefinitionsRoute)
            {
                Content = new StringContent(DefinitionJson, Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.Created)
                throw new InvalidOperationException($"Creating the listening definition: {(int)response.StatusCode} {body}");
        }

        // The declared trigger becomes routable once the Triggers module's read model has it (a few ms later).
        var deadline = Stopwatch.GetTimestamp() + (30 * Stopwatch.Frequency);
        while (true)
        {
            await using var cmd = dataSource.CreateCommand("SELECT count(*) FROM triggers.triggers WHERE event_name = $1 AND enabled");
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = EventName });
            if ((long)(await cmd.ExecuteScalarAsync())! == 1) return;
            if (Stopwatch.GetTimestamp() >= deadline) throw new InvalidOperationException("The declared trigger did not reach triggers.triggers within 30 s.");
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // What routing and the executions did, read from the store
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>Per phase event: the accepted event (revision 0 of its stream), its first decision (revision 1), and when the
    /// decision fired, the first event of the execution's stream (execution-{execution_id}).
    /// Lateral subqueries with LIMIT 1, so each is an index probe of (stream_name, revision): a hash join would scan the
    /// whole table on every drain poll and load PostgreSQL (seen while building it: one full scan per poll).</summary>
    private const string JoinSql = """
        FROM unnest($1::text[]) AS i(stream)
        LEFT JOIN LATERAL (SELECT e.stream_name, e.created_at FROM event_store.events e
                           WHERE e.stream_name = i.stream AND e.revision = 0 LIMIT 1) a ON true
        LEFT JOIN LATERAL (SELECT e.stream_name, e.type, e.created_at, e.data ->> 'execution_id' AS execution_id FROM event_store.events e
                           WHERE e.stream_name = i.stream AND e.revision = 1 LIMIT 1) f ON true
        LEFT JOIN LATERAL (SELECT e.stream_name, e.type, e.causation_id, e.created_at FROM event_store.events e
                           WHERE f.type = 'triggers.trigger_fired' AND e.stream_name = 'execution-' || f.execution_id AND e.revision = 0 LIMIT 1) s ON true
        """;

    private static async Task<(long Undecided, long NotStarted, long Missing)> LagAsync(NpgsqlDataSource dataSource, string[] streams)
    {
        await using var cmd = dataSource.CreateCommand(
            "SELECT count(*) FILTER (WHERE a.stream_name IS NOT NULL AND f.stream_name IS NULL), " +
            "count(*) FILTER (WHERE f.type = 'triggers.trigger_fired' AND s.stream_name IS NULL), " +
            "count(*) FILTER (WHERE a.stream_name IS NULL) " + JoinSql);
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = streams });
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    /// <summary>The streams among <paramref name="streams"/> that are done: decided, and started when the decision fired.</summary>
    private static async Task<HashSet<string>> DoneAsync(NpgsqlDataSource dataSource, IReadOnlyList<string> streams)
    {
        await using var cmd = dataSource.CreateCommand(
            "SELECT i.stream " + JoinSql + " WHERE f.stream_name IS NOT NULL AND (f.type <> 'triggers.trigger_fired' OR s.stream_name IS NOT NULL)");
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. streams] });
        var done = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) done.Add(reader.GetString(0));
        return done;
    }

    /// <summary>
    /// Waits until every stream is done (<see cref="DoneAsync"/>) or the deadline passes. Polls the last
    /// <see cref="TailProbe"/> accepted first (cheap; routing follows $all in order), then the rest once.
    /// </summary>
    private async Task<(bool Drained, (long Undecided, long NotStarted) Left)> AwaitDrainedAsync(NpgsqlDataSource dataSource, HostProcess host,
        string[] ordered)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(DrainDeadline.TotalSeconds * Stopwatch.Frequency);
        var remaining = ordered.ToList();
        while (remaining.Count > 0)
        {
            if (host.Process.HasExited) throw new InvalidOperationException($"The host exited (code {host.Process.ExitCode}):\n{host.Tail}");
            var probe = remaining.Count > TailProbe ? remaining[^TailProbe..] : remaining;
            var done = await DoneAsync(dataSource, probe);
            if (done.Count == probe.Count && probe.Count < remaining.Count) done = await DoneAsync(dataSource, remaining);
            remaining.RemoveAll(done.Contains);
            if (remaining.Count == 0) break;
            if (Stopwatch.GetTimestamp() >= deadline)
            {
                var (undecided, notStarted, _) = await LagAsync(dataSource, [.. remaining]);
                return (false, (undecided, notStarted));
            }

            await Task.Delay(PollInterval);
        }

        return (true, default);
    }

    private sealed record Timing(DateTime Accepted, DateTime? Decided, bool Fired, DateTime? Started, bool Mismatch);

    private static async Task<List<Timing>> TimingsAsync(NpgsqlDataSource dataSource, string[] streams)
    {
        await using var cmd = dataSource.CreateCommand(
            "SELECT a.created_at, f.created_at, f.type = 'triggers.trigger_fired', s.created_at, " +
            "s.stream_name IS NOT NULL AND (s.type <> 'executions.execution_started' OR s.causation_id IS DISTINCT FROM substr(i.stream, 7)) " +
            JoinSql + " WHERE a.stream_name IS NOT NULL");
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = streams });
        var rows = new List<Timing>(streams.Length);
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new Timing(reader.GetDateTime(0), reader.IsDBNull(1) ? null : reader.GetDateTime(1),
                !reader.IsDBNull(2) && reader.GetBoolean(2), reader.IsDBNull(3) ? null : reader.GetDateTime(3),
                !reader.IsDBNull(4) && reader.GetBoolean(4)));
        }

        return rows;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Database
    // ---------------------------------------------------------------------------------------------------------------

    private static readonly TimeSpan StatsFlushDelay = TimeSpan.FromSeconds(11);

    private async Task<string> CreateDatabaseAsync(List<string> created)
    {
        var name = $"tm_bench_{Guid.NewGuid():N}";
        await using var admin = new NpgsqlConnection(o.PostgresAdmin);
        await admin.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
        await create.ExecuteNonQueryAsync();
        created.Add(name);
        Console.Error.WriteLine($"[events] created database {name}");
        return name;
    }

    private async Task DescribePostgresAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var settings = new List<string>();
        foreach (var setting in new[] { "server_version", "fsync", "synchronous_commit", "wal_sync_method", "commit_delay", "shared_buffers",
                     "max_connections" })
        {
            await using var cmd = new NpgsqlCommand($"SHOW {setting}", connection);
            settings.Add($"{setting}={await cmd.ExecuteScalarAsync()}");
        }

        environment["PostgreSQL"] = string.Join(", ", settings) + "; the server is shared with other sessions' test runs";
    }
}
