using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Npgsql;
using Triggers.Modular.BuildingBlocks.EventStore.Postgres;

namespace Triggers.Modular.Bench;

/// <summary>One throughput/latency phase: N clients start a 3-step <c>set</c> workflow for the measured seconds, then
/// every accepted execution is awaited and read back from the list endpoint (server-side created_at / finished_at).</summary>
internal sealed record ExecutionsThroughput(string Store, int Clients)
{
    public double StartWindowSeconds { get; init; }
    public long Accepted { get; init; }
    public long StartErrors { get; init; }
    public string StartErrorKinds { get; init; } = "";
    public double PostP50Ms { get; init; }
    public double PostP99Ms { get; init; }

    public int Completed { get; init; }
    public int Failed { get; init; }
    public int Unfinished { get; init; }
    public int MissingFromList { get; init; }

    /// <summary>max created_at − min created_at of the measured executions (server clock).</summary>
    public double ServerStartSeconds { get; init; }

    /// <summary>max finished_at − min created_at of the completed ones (server clock): the brief's completions/s window.</summary>
    public double FirstStartToLastCompletionSeconds { get; init; }

    /// <summary>Completions whose finished_at falls inside [min created_at, max created_at]: while starts were sustained.</summary>
    public int CompletedWhileStarting { get; init; }

    /// <summary>max finished_at − max created_at: how long the runtime needed after the last start.</summary>
    public double TailSeconds { get; init; }

    public double LatencyP50Ms { get; init; }
    public double LatencyP95Ms { get; init; }
    public double LatencyP99Ms { get; init; }
    public double LatencyMaxMs { get; init; }

    /// <summary>CPU in % of one core over the start window: bench, host, PostgreSQL (null on SQLite), anything else.</summary>
    public (double Bench, double Host, double? Postgres, double? Other) StartCpu { get; init; }

    /// <summary>The same after the last start until every execution was seen finished.</summary>
    public (double Bench, double Host, double? Postgres, double? Other) DrainCpu { get; init; }

    public double DrainWallSeconds { get; init; }

    /// <summary>CPU seconds from the first start until every execution was seen finished: bench, host, PostgreSQL (null on SQLite).</summary>
    public (double Bench, double Host, double? Postgres) CpuSeconds { get; init; }

    public double? EventsPerExecution { get; init; }
    public double? AppendsPerExecution { get; init; }
    public string AppendsSource { get; init; } = "";

    public double? WalBytesPerCompletion { get; init; }
    public double? TransactionsPerCompletion { get; init; }

    /// <summary>pg_stat_database of the bench database over the phase, per finished execution: transactions (read-only
    /// ones included), rows inserted, updated, deleted, and rows read (returned + fetched).</summary>
    public (double Transactions, double Inserted, double Updated, double Deleted, double Read)? DatabaseStatsPerExecution { get; init; }

    /// <summary>pg_stat_user_tables over the phase, per finished execution, the tables read most first: sequential scans,
    /// rows they read, index scans, rows fetched through indexes.</summary>
    public IReadOnlyList<(string Table, double SeqScans, double SeqRows, double IndexScans, double IndexRows)> TableReadsPerExecution { get; init; } = [];

    public ProcMemory? HostMemoryAfter { get; init; }
    public long HostErrorLines { get; init; }
    public string? HostLastError { get; init; }

    /// <summary>List reads that failed during the phase (retried), by status and problem type.</summary>
    public string ListErrors { get; init; } = "";

    public PhaseResult? Ceiling { get; init; }
    public string? Error { get; init; }

    public double AcceptedPerSecond => StartWindowSeconds > 0 ? Accepted / StartWindowSeconds : 0;
    public double CompletionsPerSecond => FirstStartToLastCompletionSeconds > 0 ? Completed / FirstStartToLastCompletionSeconds : 0;
    public double CompletionsPerSecondWhileStarting => ServerStartSeconds > 0 ? CompletedWhileStarting / ServerStartSeconds : 0;
}

/// <summary>The memory phase: <see cref="Target"/> executions parked in a 600 s <c>delay</c> step, host RSS before and after.</summary>
internal sealed record ExecutionsMemory(string Store, int Target)
{
    public long Accepted { get; init; }
    public long StartErrors { get; init; }
    public string StartErrorKinds { get; init; } = "";
    public double StartSeconds { get; init; }
    public int Running { get; init; }
    public int Pending { get; init; }
    public int Other { get; init; }
    public double SettleSeconds { get; init; }
    public ProcMemory? Idle { get; init; }
    public ProcMemory? InFlight { get; init; }
    public ProcMemory? Settled { get; init; }
    public double HostCpuPercentWhileStarting { get; init; }
    public long HostErrorLines { get; init; }
    public string? HostLastError { get; init; }
    public string? Error { get; init; }
}

/// <summary>
/// Issue 5 (<c>--only executions</c>): executions on the embedded runtime through the real host (started as its own
/// process, like <see cref="HttpBench"/>): throughput and start→complete latency of a three-step <c>set</c> workflow
/// beside the raw single-row insert ceiling of the same store measured in the same run, and the host's resident
/// memory with many executions waiting in a <c>delay</c> step.
/// </summary>
internal sealed class ExecutionsBench(BenchOptions o, List<ExecutionsThroughput> throughput, List<ExecutionsMemory> memory,
    Dictionary<string, string> environment)
{
    private const string DefinitionsRoute = "/api/v1/workflows/definitions";
    private const string ExecutionsRoute = "/api/v1/workflows/executions";
    private const int PageSize = 200;

    /// <summary>Appends one execution of the 3-step workflow makes when it cannot be measured: start, then begin + outcome per step.</summary>
    public const double EstimatedAppendsPerExecution = 7;

    /// <summary>Untimed starts before each measured phase (JIT tiers, pools, plan cache), on a workflow of their own. 2 s left the
    /// first phase after a host start with ~1.5× the host CPU per execution of later phases.</summary>
    private static readonly TimeSpan MinWarmup = TimeSpan.FromSeconds(5);

    public static readonly string ThreeStepJson = """
        {
          "name": "bench-three-sets",
          "steps": [
            { "id": "a", "order": 1, "type": "set", "config": { "values": { "x": "{{ trigger.n }}" } } },
            { "id": "b", "order": 2, "type": "set", "config": { "values": { "y": "{{ steps.a.output.x }}" } } },
            { "id": "c", "order": 3, "type": "set", "config": { "values": { "z": "{{ steps.b.output.y }}" } } }
          ]
        }
        """;

    public const int DelaySeconds = 600;

    public static readonly string DelayJson = $$"""
        {
          "name": "bench-delay",
          "steps": [ { "id": "w", "order": 1, "type": "delay", "config": { "seconds": {{DelaySeconds}} } } ]
        }
        """;

    private TimeSpan DrainDeadline => TimeSpan.FromSeconds(Math.Max(90, 12 * o.Duration.TotalSeconds));

    public async Task RunAsync()
    {
        var dll = o.HostDll ?? HostProcess.LocateDll();
        environment["Host under test"] = $"{dll}, started with `dotnet`; Kestrel HTTP/1.1 on 127.0.0.1, ASPNETCORE_ENVIRONMENT=Production, " +
                                         $"rate limiting off, Serilog minimum level Warning; {HttpBench.HostGc(dll)}";
        environment["Embedded runtime"] = $"Executions__Runtime__MaxConcurrency={Setting("Executions__Runtime__MaxConcurrency", "64 (default)")}, " +
                                          $"PollIntervalSeconds={Setting("Executions__Runtime__PollIntervalSeconds", "1 (default)")}, " +
                                          $"LocalTimerHorizonSeconds={Setting("Executions__Runtime__LocalTimerHorizonSeconds", "300 (default)")}";
        environment["Clients"] = "one HttpClient + SocketsHttpHandler per client, one kept-alive HTTP/1.1 connection each, " +
                                 (o.WebhookStarts
                                     ? "POST /api/webhooks/{trigger_id} in a loop (a webhook trigger per workflow: auth_type hmac, hmac_scheme standard; " +
                                       "each request with a fresh webhook-id, the current webhook-timestamp and its HMAC-SHA256 signature computed by the client)"
                                     : "POST …/definitions/{id}/trigger in a loop") +
                                 "; on the same machine as the host (and PostgreSQL)";
        if (o.WebhookStarts) environment["Webhooks"] = "issue 7: executions started by webhook requests; no memory phase";
        environment["Workflows"] = "throughput: 3 `set` steps in order (a: x = trigger.n, b: y = steps.a.output.x, c: z = steps.b.output.y); " +
                                   $"memory: one `delay` step of {DelaySeconds} s (beyond the local timer horizon: the wake-up waits in the work table)";
        environment["Phases"] = $"per host start: warm-up ≥ {MinWarmup.TotalSeconds:0} s of starts on a separate workflow (drained), " +
                                $"then starts for {o.Duration.TotalSeconds:0.#} s, then every accepted execution awaited (deadline {DrainDeadline.TotalSeconds:0} s); " +
                                $"clients {string.Join("/", o.WriterCounts)}; raw ceiling: warm-up {o.Warmup.TotalSeconds:0.#} s + {o.Duration.TotalSeconds:0.#} s; " +
                                (o.WebhookStarts ? "no memory phase" : $"memory: {o.InFlight:N0} executions on a fresh host and store") +
                                "; PostgreSQL: VACUUM (ANALYZE) of the bench " +
                                "database after each warm-up (steady state: statistics and cached plans as autovacuum leaves them)";

        var stores = o.HttpStores ?? ["sqlite", "postgres"];
        if (stores.Contains("sqlite")) await RunSqliteAsync(dll);
        if (stores.Contains("postgres"))
        {
            try
            {
                await RunPostgresAsync(dll);
            }
            catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException)
            {
                Console.Error.WriteLine($"[executions] PostgreSQL skipped: {ex.Message}");
                environment["PostgreSQL"] = $"not run: {ex.Message}";
            }
        }
    }

    private static string Setting(string name, string fallback) => Environment.GetEnvironmentVariable(name) ?? fallback;

    private async Task RunSqliteAsync(string dll)
    {
        const string backend = "SQLite";
        var folder = Path.Combine(Path.GetTempPath(), "tm-bench-executions", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        environment["SQLite"] = $"{SqliteBench.SqliteVersion()}, WAL, synchronous=NORMAL (the default), files under {Path.GetTempPath()}";
        try
        {
            // The ceiling first, before any host runs: plain 1-row write transactions into es_events of a migrated file.
            // One writer: SQLite serialises writers, more only queue (as in the store phases).
            var (_, rawDb) = await SqliteBench.OpenAsync(Path.Combine(folder, "raw.db"), "NORMAL");
            var ceiling = await Phase.RunAsync(backend, "raw INSERT, 1 row per transaction (ceiling)", 1, o.Warmup, o.Duration,
                _ => SqliteBench.RawWriterAsync(rawDb, 1), "synchronous=NORMAL, own connection, one prepared command");
            SqliteConnection.ClearAllPools();
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[executions] {backend} raw 1-row insert ceiling @1: {ceiling.EventsPerSecond:N0}/s {ceiling.Error}"));

            var storePath = Path.Combine(folder, "store.db");
            await using (var host = await HostProcess.StartAsync(dll, SqliteSettings(storePath)))
            {
                Console.Error.WriteLine($"[executions] {backend} host at {host.Url} (pid {host.Process.Id})");
                foreach (var clients in o.WriterCounts)
                    throughput.Add(await ThroughputAsync(backend, host, clients, ceiling, () => SqliteProbeAsync(storePath), null));
            }

            if (!o.WebhookStarts)
            await using (var host = await HostProcess.StartAsync(dll, SqliteSettings(Path.Combine(folder, "memory.db"))))
            {
                Console.Error.WriteLine($"[executions] {backend} memory host at {host.Url} (pid {host.Process.Id})");
                memory.Add(await MemoryAsync(backend, host));
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                Console.Error.WriteLine($"[executions] could not delete {folder}");
            }
        }
    }

    private static Dictionary<string, string> SqliteSettings(string path) => new()
    {
        ["EventStore__Provider"] = "sqlite",
        ["EventStore__Sqlite__Path"] = path,
    };

    private async Task RunPostgresAsync(string dll)
    {
        const string backend = "PostgreSQL";
        var databases = new List<string>();
        try
        {
            var name = await CreateDatabaseAsync(databases);
            var connectionString = new NpgsqlConnectionStringBuilder(o.PostgresAdmin) { Database = name }.ConnectionString;
            CpuSample.PostgresDatabase = name;
            // The store's data source factory (No Reset On Close), so the raw writers connect as the host's store does.
            await using (var dataSource = PostgresStoreDatabase.CreateDataSource(connectionString))
            {
                await DescribePostgresAsync(dataSource);

                // The ceiling first, before the host runs, in the database the host will use: 1-row autocommit INSERTs
                // into a table shaped like event_store.events, at each client count; the better of an own connection per
                // writer and a pooled open/close per insert (as in the store phases).
                await using (var cmd = dataSource.CreateCommand(PostgresBench.RawTableSql))
                    await cmd.ExecuteNonQueryAsync();
                var ceilings = new Dictionary<int, PhaseResult?>();
                foreach (var clients in o.WriterCounts)
                {
                    var own = await Phase.RunAsync(backend, "raw INSERT, 1 row, autocommit, own connection", clients, o.Warmup, o.Duration,
                        w => PostgresBench.RawWriterAsync(dataSource, w, batch: 1, pooled: false), "one connection kept open per writer");
                    await PostgresBench.CheckpointAsync(dataSource);
                    var pooled = await Phase.RunAsync(backend, "raw INSERT, 1 row, autocommit, pool open/close per insert", clients, o.Warmup,
                        o.Duration, w => PostgresBench.RawWriterAsync(dataSource, w, batch: 1, pooled: true), "as the store opens connections");
                    await PostgresBench.CheckpointAsync(dataSource);
                    ceilings[clients] = new[] { own, pooled }.Where(r => r.Error is null).MaxBy(r => r.EventsPerSecond);
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"[executions] {backend} raw 1-row insert ceiling @{clients}: own {own.EventsPerSecond:N0}/s, pooled {pooled.EventsPerSecond:N0}/s {own.Error}{pooled.Error}"));
                }

                // Close the raw writers' idle pooled connections: with the host's pool (up to 100) they could exhaust the
                // server's max_connections, which other sessions' test runs share.
                dataSource.Clear();
                await using var host = await HostProcess.StartAsync(dll, PostgresSettings(connectionString));
                Console.Error.WriteLine($"[executions] {backend} host at {host.Url} (pid {host.Process.Id})");
                foreach (var clients in o.WriterCounts)
                    throughput.Add(await ThroughputAsync(backend, host, clients, ceilings[clients], () => PostgresProbeAsync(dataSource), dataSource));
            }

            NpgsqlConnection.ClearAllPools();
            if (o.WebhookStarts) return;
            var memoryDb = await CreateDatabaseAsync(databases);
            CpuSample.PostgresDatabase = memoryDb;
            var memoryConnection = new NpgsqlConnectionStringBuilder(o.PostgresAdmin) { Database = memoryDb }.ConnectionString;
            await using (var host = await HostProcess.StartAsync(dll, PostgresSettings(memoryConnection)))
            {
                Console.Error.WriteLine($"[executions] {backend} memory host at {host.Url} (pid {host.Process.Id})");
                memory.Add(await MemoryAsync(backend, host));
            }
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
                    Console.Error.WriteLine($"[executions] dropped database {name}");
                }
            }
        }
    }

    private static Dictionary<string, string> PostgresSettings(string connectionString) => new()
    {
        ["EventStore__Provider"] = "postgres",
        ["EventStore__Postgres__ConnectionString"] = connectionString,
    };

    private async Task<string> CreateDatabaseAsync(List<string> created)
    {
        var name = $"tm_bench_{Guid.NewGuid():N}";
        await using var admin = new NpgsqlConnection(o.PostgresAdmin);
        await admin.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
        await create.ExecuteNonQueryAsync();
        created.Add(name);
        Console.Error.WriteLine($"[executions] created database {name}");
        return name;
    }

    private async Task DescribePostgresAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var settings = new List<string>();
        foreach (var setting in new[] { "server_version", "fsync", "synchronous_commit", "shared_buffers", "max_connections" })
        {
            await using var cmd = new NpgsqlCommand($"SHOW {setting}", connection);
            settings.Add($"{setting}={await cmd.ExecuteScalarAsync()}");
        }

        environment["PostgreSQL"] = string.Join(", ", settings) + "; the server is shared with other sessions' test runs";
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Throughput and latency
    // ---------------------------------------------------------------------------------------------------------------

    private async Task<ExecutionsThroughput> ThroughputAsync(string backend, HostProcess host, int clients, PhaseResult? ceiling,
        Func<Task<(long Executions, long Events, long Appends, string Source)>> probe, NpgsqlDataSource? dataSource)
    {
        var result = new ExecutionsThroughput(backend, clients) { Ceiling = ceiling };
        CpuSample.HostProcess = host.Process;
        try
        {
            var key = host.AdminKey;
            var warm = await CreateDefinitionAsync(host, key, ThreeStepJson);
            var measured = await CreateDefinitionAsync(host, key, ThreeStepJson);
            var warmStarters = o.WebhookStarts ? await WebhookStartersAsync(host, key, warm) : null;
            var measuredStarters = o.WebhookStarts ? await WebhookStartersAsync(host, key, measured) : null;

            // Warm-up on a workflow of its own, drained before the measured starts so that no backlog carries over.
            var warmIds = new ConcurrentBag<string>();
            var warmErrors = new ErrorKinds();
            var warmup = o.Warmup > MinWarmup ? o.Warmup : MinWarmup;
            await Phase.RunAsync(backend, "warm-up", clients, TimeSpan.Zero, warmup,
                warmStarters?.Invoke(warmIds, warmErrors) ?? Starters(host, key, warm, warmIds, warmErrors));
            var (warmRows, _) = await AwaitFinishedAsync(host, key, warm, warmIds.ToHashSet(StringComparer.Ordinal));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[executions] {backend} @{clients} warm-up: {warmIds.Count:N0} started, {warmRows.Count(r => r.Status == "completed"):N0} completed {warmErrors.Describe()}"));
            if (dataSource is not null)
            {
                // Steady state, as autovacuum leaves a table within a minute or so: fresh statistics, and cached plans
                // (event_store.append_events' among them, per pooled connection) invalidated, so they are made again
                // against the real tables. Without it, connections that planned while the store was nearly empty kept
                // sequential scans of event_store.events (seen in a run: ~2.8 per execution, 40,000+ rows read).
                await using (var vacuum = dataSource.CreateCommand("VACUUM (ANALYZE)"))
                    await vacuum.ExecuteNonQueryAsync();
                await PostgresBench.CheckpointAsync(dataSource);
            }

            var (errorLinesBefore, _) = host.LoggedProblems;
            var listErrorsBefore = _listErrors.Total;
            var counters = dataSource is null ? default : await PostgresBench.ServerCountersAsync(dataSource);
            var stats = dataSource is null ? default : await DatabaseStatsAsync(dataSource);
            var tables = dataSource is null ? [] : await TableStatsAsync(dataSource);
            var ids = new ConcurrentBag<string>();
            var errors = new ErrorKinds();
            var cpu0 = CpuSample.Take();
            var started = Stopwatch.GetTimestamp();
            var phase = await Phase.RunAsync(backend, "starts", clients, TimeSpan.Zero, o.Duration,
                measuredStarters?.Invoke(ids, errors) ?? Starters(host, key, measured, ids, errors));
            var startWall = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var cpu1 = CpuSample.Take();
            if (phase.Error is not null) return result with { Error = phase.Error };

            var accepted = ids.ToHashSet(StringComparer.Ordinal);
            var (rows, drained) = await AwaitFinishedAsync(host, key, measured, accepted);
            var cpu2 = CpuSample.Take();
            var drainWall = Stopwatch.GetElapsedTime(started).TotalSeconds - startWall;

            result = result with
            {
                StartWindowSeconds = startWall,
                Accepted = accepted.Count,
                StartErrors = errors.Total,
                StartErrorKinds = errors.Describe(),
                PostP50Ms = phase.P50Ms,
                PostP99Ms = phase.P99Ms,
                StartCpu = Percentages(cpu1.Since(cpu0), startWall),
                DrainCpu = Percentages(cpu2.Since(cpu1), drainWall),
                DrainWallSeconds = drainWall,
                CpuSeconds = Seconds(cpu2.Since(cpu0)),
                Error = drained ? null : $"not all executions finished within {DrainDeadline.TotalSeconds:0} s",
            };

            if (dataSource is not null)
            {
                var (lsn, xid) = await PostgresBench.ServerCountersAsync(dataSource);
                var finished = Math.Max(1, rows.Count(r => r.Status is "completed" or "failed" or "cancelled"));
                // Backends flush their statistics when idle, at the latest 10 s later (PostgreSQL 15): wait that out.
                await Task.Delay(StatsFlushDelay);
                var statsAfter = await DatabaseStatsAsync(dataSource);
                var tablesAfter = await TableStatsAsync(dataSource);
                result = result with
                {
                    WalBytesPerCompletion = (double)(ulong)(lsn - counters.Lsn) / finished,
                    TransactionsPerCompletion = (double)(xid - counters.NextXid) / finished,
                    DatabaseStatsPerExecution = ((statsAfter.Transactions - stats.Transactions) / (double)finished,
                        (statsAfter.Inserted - stats.Inserted) / (double)finished, (statsAfter.Updated - stats.Updated) / (double)finished,
                        (statsAfter.Deleted - stats.Deleted) / (double)finished, (statsAfter.Read - stats.Read) / (double)finished),
                    TableReadsPerExecution = tablesAfter
                        .Select(a => tables.TryGetValue(a.Key, out var b)
                            ? (a.Key, (a.Value.SeqScans - b.SeqScans) / (double)finished, (a.Value.SeqRows - b.SeqRows) / (double)finished,
                                (a.Value.IndexScans - b.IndexScans) / (double)finished, (a.Value.IndexRows - b.IndexRows) / (double)finished)
                            : (a.Key, a.Value.SeqScans / (double)finished, a.Value.SeqRows / (double)finished,
                                a.Value.IndexScans / (double)finished, a.Value.IndexRows / (double)finished))
                        .OrderByDescending(t => t.Item3 + t.Item5).Take(5).ToList(),
                };
            }

            result = Summarise(result, rows, accepted);
            var (executions, events, appends, source) = await probe();
            if (executions > 0)
                result = result with
                {
                    EventsPerExecution = (double)events / executions,
                    AppendsPerExecution = appends > 0 ? (double)appends / executions : null,
                    AppendsSource = $"{source}, over all {executions:N0} executions in the store (warm-up included)",
                };

            var (errorLinesAfter, _) = host.LoggedProblems;
            result = result with
            {
                ListErrors = _listErrors.Total > listErrorsBefore ? _listErrors.Describe() : "",
                HostMemoryAfter = ProcMemory.Read(host.Process.Id),
                HostErrorLines = errorLinesAfter - errorLinesBefore,
                HostLastError = errorLinesAfter > errorLinesBefore ? host.LastError : null,
            };
            if (host.Process.HasExited) result = result with { Error = $"host exited (code {host.Process.ExitCode}): {host.Tail}" };
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[executions] {backend} @{clients}: {result.Accepted:N0} accepted ({result.AcceptedPerSecond:N0}/s), {result.Completed:N0} completed, " +
                $"{result.CompletionsPerSecond:N0} completions/s, latency p50 {result.LatencyP50Ms:N0} ms p99 {result.LatencyP99Ms:N0} ms, " +
                $"host CPU {result.StartCpu.Host:N0} % {result.Error}"));
            return result;
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or JsonException or TaskCanceledException)
        {
            Console.Error.WriteLine($"[executions] {backend} @{clients} failed: {ex.Message}\n  host's last error: {host.LastError}");
            return result with { Error = $"{ex.GetType().Name}: {ex.Message}", HostLastError = host.LastError, ListErrors = _listErrors.Describe() };
        }
        finally
        {
            CpuSample.HostProcess = null;
        }
    }

    private static (double Bench, double Host, double? Postgres, double? Other) Percentages(
        (TimeSpan Client, TimeSpan? Server, TimeSpan? Host, double? ForeignShare) cpu, double seconds) =>
        seconds <= 0 ? default
            : (cpu.Client.TotalSeconds / seconds * 100, (cpu.Host ?? TimeSpan.Zero).TotalSeconds / seconds * 100,
                cpu.Server is { } s ? s.TotalSeconds / seconds * 100 : null,
                cpu.ForeignShare is { } f ? f * Environment.ProcessorCount * 100 : null);

    private static (double Bench, double Host, double? Postgres) Seconds(
        (TimeSpan Client, TimeSpan? Server, TimeSpan? Host, double? ForeignShare) cpu) =>
        (cpu.Client.TotalSeconds, (cpu.Host ?? TimeSpan.Zero).TotalSeconds, cpu.Server?.TotalSeconds);

    private static ExecutionsThroughput Summarise(ExecutionsThroughput result, List<ListedExecution> rows, HashSet<string> accepted)
    {
        var mine = rows.Where(r => accepted.Contains(r.Id)).ToList();
        var completed = mine.Where(r => r.Status == "completed" && r.FinishedAt is not null).ToList();
        var failed = mine.Count(r => r.Status is "failed" or "cancelled");
        result = result with
        {
            Completed = completed.Count,
            Failed = failed,
            Unfinished = mine.Count - completed.Count - failed,
            MissingFromList = accepted.Count - mine.Count,
        };
        if (mine.Count == 0) return result;

        var firstStart = mine.Min(r => r.CreatedAt);
        var lastStart = mine.Max(r => r.CreatedAt);
        result = result with { ServerStartSeconds = (lastStart - firstStart).TotalSeconds };
        if (completed.Count == 0) return result;

        var lastFinish = completed.Max(r => r.FinishedAt!.Value);
        var latencies = completed.Select(r => (r.FinishedAt!.Value - r.CreatedAt).TotalMilliseconds).Order().ToArray();
        return result with
        {
            FirstStartToLastCompletionSeconds = (lastFinish - firstStart).TotalSeconds,
            CompletedWhileStarting = completed.Count(r => r.FinishedAt!.Value <= lastStart),
            TailSeconds = (lastFinish - lastStart).TotalSeconds,
            LatencyP50Ms = Percentile(latencies, 0.50),
            LatencyP95Ms = Percentile(latencies, 0.95),
            LatencyP99Ms = Percentile(latencies, 0.99),
            LatencyMaxMs = latencies[^1],
        };
    }

    /// <summary>Nearest rank on sorted values.</summary>
    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary>
    /// Waits until every accepted execution shows a terminal status in the list (a read model: it may lag the stream),
    /// then returns the workflow's rows; false when the deadline passed first (the rows as they were then).
    /// </summary>
    private async Task<(List<ListedExecution> Rows, bool Drained)> AwaitFinishedAsync(HostProcess host, string key, string workflowId,
        HashSet<string> accepted)
    {
        using var client = HttpBench.NewClient(host.Url);
        var deadline = Stopwatch.GetTimestamp() + (long)(DrainDeadline.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var active = await AnyAsync(client, key, workflowId, "pending") || await AnyAsync(client, key, workflowId, "running");
            var timedOut = Stopwatch.GetTimestamp() >= deadline;
            if (!active || timedOut)
            {
                var rows = await ListAllAsync(client, key, workflowId, status: null);
                var finished = rows.Count(r => accepted.Contains(r.Id) && r.Status is "completed" or "failed" or "cancelled");
                if (finished >= accepted.Count) return (rows, true);
                if (timedOut) return (rows, false);
            }

            if (host.Process.HasExited) throw new InvalidOperationException("The host exited while executions were running:\n" + host.Tail);
            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Memory with executions in flight
    // ---------------------------------------------------------------------------------------------------------------

    private async Task<ExecutionsMemory> MemoryAsync(string backend, HostProcess host)
    {
        var result = new ExecutionsMemory(backend, o.InFlight);
        var key = host.AdminKey;
        try
        {
            var workflow = await CreateDefinitionAsync(host, key, DelayJson);
            await Task.Delay(TimeSpan.FromSeconds(3)); // startup work (migrations, projections catching up) settles
            var idle = ProcMemory.Read(host.Process.Id);
            var (errorLinesBefore, _) = host.LoggedProblems;

            // A fixed number of starts shared by the clients; a failed start is counted, not retried.
            var clients = o.WriterCounts.Max();
            var ids = new ConcurrentBag<string>();
            var errors = new ErrorKinds();
            var next = 0;
            var hostCpu0 = HostCpu(host);
            var started = Stopwatch.GetTimestamp();
            await Task.WhenAll(Enumerable.Range(0, clients).Select(w => Task.Run(async () =>
            {
                var writer = await Starters(host, key, workflow, ids, errors)(w);
                await using (writer)
                {
                    while (Interlocked.Increment(ref next) <= o.InFlight) await writer.RunOnceAsync();
                }
            })));
            var startSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var hostCpu = (HostCpu(host) - hostCpu0).TotalSeconds / startSeconds * 100;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[executions] {backend} memory: {ids.Count:N0} started in {startSeconds:0.0} s {errors.Describe()}"));

            // All of them parked: the list shows them running (their delay step started and went to sleep).
            using var client = HttpBench.NewClient(host.Url);
            var accepted = ids.ToHashSet(StringComparer.Ordinal);
            var deadline = Stopwatch.GetTimestamp() + 180 * Stopwatch.Frequency;
            List<ListedExecution> rows;
            while (true)
            {
                rows = await ListAllAsync(client, key, workflow, status: null);
                var running = rows.Count(r => r.Status == "running" && accepted.Contains(r.Id));
                if (running >= accepted.Count || Stopwatch.GetTimestamp() >= deadline || host.Process.HasExited) break;
                await Task.Delay(TimeSpan.FromSeconds(1));
            }

            var settle = Stopwatch.GetElapsedTime(started).TotalSeconds - startSeconds;
            var inFlight = ProcMemory.Read(host.Process.Id);
            await Task.Delay(TimeSpan.FromSeconds(10));
            var settled = ProcMemory.Read(host.Process.Id);
            var (errorLinesAfter, _) = host.LoggedProblems;
            var mine = rows.Where(r => accepted.Contains(r.Id)).ToList();
            result = result with
            {
                Accepted = accepted.Count,
                StartErrors = errors.Total,
                StartErrorKinds = errors.Describe(),
                StartSeconds = startSeconds,
                Running = mine.Count(r => r.Status == "running"),
                Pending = mine.Count(r => r.Status == "pending"),
                Other = mine.Count(r => r.Status is not ("running" or "pending")),
                SettleSeconds = settle,
                Idle = idle,
                InFlight = inFlight,
                Settled = settled,
                HostCpuPercentWhileStarting = hostCpu,
                HostErrorLines = errorLinesAfter - errorLinesBefore,
                HostLastError = errorLinesAfter > errorLinesBefore ? host.LastError : null,
                Error = host.Process.HasExited ? $"host exited (code {host.Process.ExitCode})"
                    : mine.Count(r => r.Status == "running") < accepted.Count ? "not all executions were running within 180 s" : null,
            };
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[executions] {backend} memory: {result.Running:N0} running; RSS idle {idle?.RssMiB:N0} MiB, in flight {inFlight?.RssMiB:N0} MiB, " +
                $"+10 s {settled?.RssMiB:N0} MiB, peak {settled?.HwmMiB:N0} MiB {result.Error}"));
            return result;
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or JsonException or TaskCanceledException)
        {
            Console.Error.WriteLine($"[executions] {backend} memory failed: {ex.Message}\n  host's last error: {host.LastError}");
            return result with { Error = $"{ex.GetType().Name}: {ex.Message}", HostLastError = host.LastError };
        }
    }

    private static TimeSpan HostCpu(HostProcess host)
    {
        try
        {
            host.Process.Refresh();
            return host.Process.TotalProcessorTime;
        }
        catch (InvalidOperationException)
        {
            return TimeSpan.Zero;
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // HTTP
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>One client per loop; an operation is one trigger request, 1 when it was accepted (202 with an id).</summary>
    private static Func<int, Task<Writer>> Starters(HostProcess host, string key, string workflowId, ConcurrentBag<string> ids,
        ErrorKinds errors) => w =>
    {
        var client = HttpBench.NewClient(host.Url);
        long sequence = 0;
        var path = $"{DefinitionsRoute}/{workflowId}/trigger";
        return Task.FromResult(new Writer(async () =>
        {
            var n = (w * 1_000_000L) + sequence++;
            using var request = new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = new StringContent(string.Create(CultureInfo.InvariantCulture, $$$"""{"trigger_data":{"n":{{{n}}}}}"""), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            if (await HttpBench.AcceptedIdAsync(client, request, "execution_id", errors) is not { } id) return 0;
            ids.Add(id);
            return 1;
        }, () =>
        {
            client.Dispose();
            return ValueTask.CompletedTask;
        }));
    };

    /// <summary>Issue 7: a webhook trigger (HMAC, Standard Webhooks scheme, a rate limit far above the load) on the workflow,
    /// and clients that POST signed requests to it: the body <c>{"n": …}</c>, a fresh <c>webhook-id</c> per request, the
    /// signature computed here per request (as a sender does).</summary>
    private static async Task<Func<ConcurrentBag<string>, ErrorKinds, Func<int, Task<Writer>>>> WebhookStartersAsync(HostProcess host, string key,
        string workflowId)
    {
        using var client = HttpBench.NewClient(host.Url);
        using var create = new HttpRequestMessage(HttpMethod.Post, "/api/v1/triggers")
        {
            Content = new StringContent($$"""
                { "workflow_id": "{{workflowId}}", "name": "bench webhook", "type": "webhook",
                  "config": { "auth_type": "hmac", "hmac_scheme": "standard", "rate_limit_per_minute": 6000000 } }
                """, Encoding.UTF8, "application/json"),
        };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var created = await client.SendAsync(create);
        var body = await created.Content.ReadAsStringAsync();
        if (created.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"Creating a webhook trigger: {(int)created.StatusCode} {body}");
        var trigger = JsonNode.Parse(body)!;
        var path = new Uri(trigger["webhook_url"]!.GetValue<string>()).AbsolutePath;
        var secretKey = Convert.FromBase64String(trigger["webhook_secret"]!.GetValue<string>()["whsec_".Length..]);
        return (ids, errors) => w =>
        {
            var sender = HttpBench.NewClient(host.Url);
            long sequence = 0;
            return Task.FromResult(new Writer(async () =>
            {
                var n = (w * 1_000_000L) + sequence++;
                var id = $"msg_{Guid.NewGuid():N}";
                var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                var payload = string.Create(CultureInfo.InvariantCulture, $$"""{"n":{{n}}}""");
                var signature = Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(secretKey,
                    Encoding.UTF8.GetBytes($"{id}.{timestamp}.{payload}")));
                using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
                request.Headers.Add("webhook-id", id);
                request.Headers.Add("webhook-timestamp", timestamp);
                request.Headers.Add("webhook-signature", "v1," + signature);
                if (await HttpBench.AcceptedIdAsync(sender, request, "execution_id", errors) is not { } execution) return 0;
                ids.Add(execution);
                return 1;
            }, () =>
            {
                sender.Dispose();
                return ValueTask.CompletedTask;
            }));
        };
    }

    private static async Task<string> CreateDefinitionAsync(HostProcess host, string key, string json)
    {
        using var client = HttpBench.NewClient(host.Url);
        using var request = new HttpRequestMessage(HttpMethod.Post, DefinitionsRoute) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created)
            throw new InvalidOperationException($"Creating a definition: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)?["id"]?.GetValue<string>() ?? throw new InvalidOperationException($"No id in the created definition: {body}");
    }

    private sealed record ListedExecution(string Id, string Status, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt);

    private async Task<bool> AnyAsync(HttpClient client, string key, string workflowId, string status)
    {
        var (items, _) = await ListPageAsync(client, key, $"{ExecutionsRoute}?workflow_id={workflowId}&status={status}&limit=1");
        return items.Count > 0;
    }

    /// <summary>Every execution of the workflow (optionally of one status), newest first, page by page.</summary>
    private async Task<List<ListedExecution>> ListAllAsync(HttpClient client, string key, string workflowId, string? status)
    {
        var all = new List<ListedExecution>();
        string? cursor = null;
        do
        {
            var path = $"{ExecutionsRoute}?workflow_id={workflowId}&limit={PageSize}" + (status is null ? "" : $"&status={status}")
                       + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            (var items, cursor) = await ListPageAsync(client, key, path);
            all.AddRange(items);
        }
        while (cursor is not null);

        return all;
    }

    /// <summary>Failed list reads (retried): the list endpoint is how the bench observes executions, so its errors are reported.</summary>
    private readonly ErrorKinds _listErrors = new();

    private async Task<(List<ListedExecution> Items, string? Next)> ListPageAsync(HttpClient client, string key, string path)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK) return ParsePage(body);
            _listErrors.Add($"list {(int)response.StatusCode} {HttpBench.ProblemType(body)}", null);
            if ((int)response.StatusCode < 500 || attempt >= 10)
                throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode} {body}");
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
    }

    private static (List<ListedExecution> Items, string? Next) ParsePage(string body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var items = new List<ListedExecution>();
        foreach (var item in root.GetProperty("items").EnumerateArray())
        {
            var finished = item.TryGetProperty("finished_at", out var f) && f.ValueKind == JsonValueKind.String ? f.GetDateTimeOffset() : (DateTimeOffset?)null;
            items.Add(new ListedExecution(item.GetProperty("id").GetString()!, item.GetProperty("status").GetString()!,
                item.GetProperty("created_at").GetDateTimeOffset(), finished));
        }

        var next = root.TryGetProperty("next_cursor", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        return (items, next);
    }

    private static readonly TimeSpan StatsFlushDelay = TimeSpan.FromSeconds(11);

    internal static async Task<(long Transactions, long Inserted, long Updated, long Deleted, long Read)> DatabaseStatsAsync(NpgsqlDataSource dataSource)
    {
        await using var cmd = dataSource.CreateCommand(
            "SELECT xact_commit + xact_rollback, tup_inserted, tup_updated, tup_deleted, tup_returned + tup_fetched " +
            "FROM pg_stat_database WHERE datname = current_database()");
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
    }

    internal static async Task<Dictionary<string, (long SeqScans, long SeqRows, long IndexScans, long IndexRows)>> TableStatsAsync(
        NpgsqlDataSource dataSource)
    {
        await using var cmd = dataSource.CreateCommand(
            "SELECT schemaname || '.' || relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0), coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables");
        await using var reader = await cmd.ExecuteReaderAsync();
        var tables = new Dictionary<string, (long, long, long, long)>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
            tables[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
        return tables;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // What an execution writes, read from the store itself
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>Executions, their events, and appends (distinct writing transactions) in the PostgreSQL store.</summary>
    private static async Task<(long Executions, long Events, long Appends, string Source)> PostgresProbeAsync(NpgsqlDataSource dataSource)
    {
        await using var cmd = dataSource.CreateCommand(
            "SELECT count(DISTINCT stream_name), count(*), count(DISTINCT tx_id) FROM event_store.events WHERE category = 'execution'");
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), "distinct tx_id of execution events");
    }

    /// <summary>The same from the SQLite file (read-only, beside the running host); an append = one (stream, created_at).</summary>
    private static async Task<(long Executions, long Events, long Appends, string Source)> SqliteProbeAsync(string path)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly }.ConnectionString);
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT count(DISTINCT stream_name), count(*), count(DISTINCT stream_name || '|' || created_at) FROM es_events WHERE category = 'execution'";
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), "distinct (stream, created_at) of execution events");
    }
}
