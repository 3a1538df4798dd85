using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Triggers.Modular.Bench;

internal sealed record BenchOptions(
    TimeSpan Duration,
    TimeSpan Warmup,
    string PostgresAdmin,
    bool RunSqlite,
    bool RunPostgres,
    int[] WriterCounts,
    long ReadEvents,
    bool RunHttp = false,
    string[]? HttpStores = null,
    string? HostDll = null,
    bool RunExecutions = false,
    bool WebhookStarts = false,
    int InFlight = 10_000,
    bool RunEvents = false,
    double[]? Rates = null,
    bool RunSchedules = false,
    int Schedules = 1_000,
    bool RunAudit = false,
    bool RunRebuild = false)
{
    public const string DefaultPostgres = "Host=127.0.0.1;Port=5432;Username=tm_test;Password=tm_test;Database=postgres";

    public static BenchOptions Parse(string[] args)
    {
        double seconds = 5, warmup = 1;
        var postgres = Environment.GetEnvironmentVariable("TM_BENCH_POSTGRES") ?? DefaultPostgres;
        string? only = null;
        int[] writers = [1, 16];
        long readEvents = 100_000;
        var readEventsGiven = false;
        string[] httpStores = ["sqlite", "postgres"];
        var httpStoresGiven = false;
        string? hostDll = null;
        var writersGiven = false;
        var inFlight = 10_000;
        double[] rates = [1_000];
        var schedules = 1_000;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--seconds": seconds = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--postgres": postgres = Value(); break;
                case "--only": only = Value().ToLowerInvariant(); break;
                case "--writers": writers = Value().Split(',').Select(w => int.Parse(w, CultureInfo.InvariantCulture)).ToArray(); writersGiven = true; break;
                case "--read-events": readEventsGiven = true; readEvents = long.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--http-stores":
                    httpStores = Value().ToLowerInvariant().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    httpStoresGiven = true;
                    break;
                case "--host-dll": hostDll = Path.GetFullPath(Value()); break;
                case "--in-flight": inFlight = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--schedules": schedules = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--rate": rates = Value().Split(',').Select(r => double.Parse(r, CultureInfo.InvariantCulture)).ToArray(); break;
                case "-h" or "--help":
                    throw new ArgumentException("help");
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }

        if (only is not (null or "sqlite" or "postgres" or "http" or "executions" or "events" or "webhooks" or "schedules" or "audit" or "rebuild"))
            throw new ArgumentException("--only takes sqlite, postgres, http, executions, events, webhooks, schedules, audit or rebuild.");
        if (only is "audit" or "rebuild" && !readEventsGiven) readEvents = 1_000_000;
        if (schedules < 1) throw new ArgumentException("--schedules must be ≥ 1.");
        if (only is "executions" or "events" or "webhooks" && !writersGiven) writers = [16];
        if (only is "webhooks" && !httpStoresGiven) httpStores = ["postgres"];
        if (rates.Length == 0 || rates.Any(r => r is <= 0 or > 100_000)) throw new ArgumentException("--rate takes events/s, each > 0 and ≤ 100000.");
        if (inFlight < 1) throw new ArgumentException("--in-flight must be ≥ 1.");
        if (httpStores.Length == 0 || httpStores.Any(s => s is not ("sqlite" or "postgres")))
            throw new ArgumentException("--http-stores takes sqlite, postgres or both (comma-separated).");
        if (seconds <= 0 || warmup < 0 || writers.Length == 0 || writers.Any(w => w < 1))
            throw new ArgumentException("--seconds must be > 0, --warmup ≥ 0, --writers a list of counts ≥ 1.");
        return new BenchOptions(TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(warmup), postgres,
            only is null or "sqlite", only is null or "postgres", writers, readEvents,
            RunHttp: only == "http", HttpStores: httpStores, HostDll: hostDll, RunExecutions: only is "executions" or "webhooks", InFlight: inFlight,
            WebhookStarts: only == "webhooks",
            RunEvents: only == "events", Rates: rates, RunSchedules: only == "schedules", Schedules: schedules, RunAudit: only == "audit",
            RunRebuild: only == "rebuild");
    }
}

internal static class Program
{
    private const string Usage = """
        Event-store and HTTP pipeline benchmark (docs/benchmarks.md).
          dotnet run -c Release --project bench/Triggers.Modular.Bench -- [options]
            --seconds N        measured seconds per phase (default 5)
            --warmup N         warm-up seconds per phase, not measured (default 1)
            --postgres "CS"    admin connection string (default env TM_BENCH_POSTGRES, else the local tm_test role);
                               the bench creates and drops its own database tm_bench_<guid>
            --only sqlite|postgres|http|executions|events|webhooks|schedules|audit|rebuild
                               without --only: the store phases of both adapters (not http); http: only the HTTP
                               pipeline phases, against the real host started as a separate process; executions:
                               workflow executions on the embedded runtime through that host (issue 5); events: the
                               events API on PostgreSQL through that host, with routing to executions (issue 6);
                               webhooks: the executions phases started by HMAC-signed webhook requests instead
                               (issue 7; PostgreSQL unless --http-stores says otherwise; no memory phase); schedules:
                               bursts of --schedules schedule triggers due at the same instants, on PostgreSQL, once per
                               firing-loop parallelism in --writers (issue 8; default 1,16); audit: history queries
                               over --read-events events (default 1,000,000) in PostgreSQL (issue 9); rebuild: the
                               executions projection rebuilt beside its table over --read-events events (default
                               1,000,000) in PostgreSQL, switch then compare (issue 9)
            --writers 1,16     concurrent writer counts for the write phases (default 1,16; executions: start clients,
                               events: closed-loop sending clients; default 16 for both)
            --schedules N      schedules: schedule triggers due together every 10 s (default 1000)
            --rate 1000        events: the open-loop phase's schedule in events/s (default 1000); a comma-separated list
                               runs one open-loop phase per rate, in order
            --read-events N    $all is filled to at least N events before the read phases (default 100000)
            --http-stores L    stores the host runs on for --only http, executions or webhooks: sqlite,postgres (default
                               both; webhooks: postgres)
            --in-flight N      executions parked in a delay step for the memory phase of --only executions (default 10000)
            --host-dll PATH    the host to start (default src/Host/bin/<configuration>/net10.0/Triggers.Modular.Host.dll,
                               built with the bench, which references the host project for build order only)
        """;

    public static async Task<int> Main(string[] args)
    {
        BenchOptions o;
        try
        {
            o = BenchOptions.Parse(args);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
        {
            if (ex.Message != "help") Console.Error.WriteLine(ex.Message);
            Console.Error.WriteLine(Usage);
            return ex.Message == "help" ? 0 : 2;
        }

#if DEBUG
        Console.Error.WriteLine("WARNING: Debug build; figures are meaningless. Run with -c Release.");
#endif
        var environment = new Dictionary<string, string>
        {
            ["Date (UTC)"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
            ["Machine"] = $"{Environment.ProcessorCount} logical CPUs ({CpuModel()}), {MemoryGiB()} GiB RAM, {RuntimeInformation.OSDescription}",
            [".NET"] = $"{RuntimeInformation.FrameworkDescription}, server GC {System.Runtime.GCSettings.IsServerGC}",
            ["Phases"] = $"warm-up {o.Warmup.TotalSeconds:0.#} s + measured {o.Duration.TotalSeconds:0.#} s each; writers {string.Join("/", o.WriterCounts)}",
        };
        var results = new List<PhaseResult>();

        if (o.RunHttp)
        {
            environment["Phases"] = $"warm-up {o.Warmup.TotalSeconds:0.#} s + measured {o.Duration.TotalSeconds:0.#} s each; clients {string.Join("/", o.WriterCounts)}";
            try
            {
                await new HttpBench(o, results, environment).RunAsync();
            }
            catch (InvalidOperationException ex)
            {
                Console.Error.WriteLine($"[http] stopped: {ex.Message}");
                environment["HTTP"] = $"stopped early: {ex.Message.ReplaceLineEndings(" ")}";
            }

            Console.WriteLine(HttpReport.Render(environment, results));
            return results.Count > 0 && results.All(r => r.Error is null) ? 0 : 1;
        }

        if (o.RunAudit)
        {
            environment.Remove("Phases");
            environment["Commit"] = Commit();
            environment["Load average when the run started"] = LoadAverage();
            var queries = await new AuditBench(o, environment).RunAsync();
            environment["Load average when the run ended"] = LoadAverage();
            Console.WriteLine(AuditBench.Render(environment, queries));
            return queries.Count > 0 && queries.All(q => q.Error is null) ? 0 : 1;
        }

        if (o.RunRebuild)
        {
            environment.Remove("Phases");
            environment["Commit"] = Commit();
            environment["Load average when the run started"] = LoadAverage();
            var rebuilds = await new RebuildBench(o, environment).RunAsync();
            environment["Load average when the run ended"] = LoadAverage();
            Console.WriteLine(RebuildBench.Render(environment, rebuilds));
            return rebuilds.Count > 0 && rebuilds.All(r => r.Error is null && r.State == "completed") ? 0 : 1;
        }

        if (o.RunSchedules)
        {
            environment.Remove("Phases"); // the load is described by the bench
            environment["Commit"] = Commit();
            environment["Load average when the run started"] = LoadAverage();
            var bursts = await new SchedulesBench(o, environment).RunAsync();
            environment["Load average when the run ended"] = LoadAverage();
            Console.WriteLine(SchedulesBench.Render(environment, bursts));
            return bursts.Count > 0 && bursts.All(b => b.Error is null) ? 0 : 1;
        }

        if (o.RunEvents)
        {
            var phases = new List<EventsPhase>();
            environment["Commit"] = Commit();
            environment["Load average when the run started"] = LoadAverage();
            try
            {
                await new EventsBench(o, phases, environment).RunAsync();
            }
            catch (InvalidOperationException ex)
            {
                Console.Error.WriteLine($"[events] stopped: {ex.Message}");
                environment["Events"] = $"stopped early: {ex.Message.ReplaceLineEndings(" ")}";
            }

            environment["Load average when the run ended"] = LoadAverage();
            Console.WriteLine(EventsReport.Render(environment, phases));
            return phases.Count > 0 && phases.All(p => p.Error is null) ? 0 : 1;
        }

        if (o.RunExecutions)
        {
            var throughput = new List<ExecutionsThroughput>();
            var memory = new List<ExecutionsMemory>();
            try
            {
                await new ExecutionsBench(o, throughput, memory, environment).RunAsync();
            }
            catch (InvalidOperationException ex)
            {
                Console.Error.WriteLine($"[executions] stopped: {ex.Message}");
                environment["Executions"] = $"stopped early: {ex.Message.ReplaceLineEndings(" ")}";
            }

            Console.WriteLine(ExecutionsReport.Render(environment, throughput, memory));
            return throughput.Count > 0 && throughput.All(r => r.Error is null) && memory.All(m => m.Error is null) ? 0 : 1;
        }

        if (o.RunPostgres)
        {
            try
            {
                await new PostgresBench(o, results, environment).RunAsync();
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or System.Net.Sockets.SocketException or InvalidOperationException)
            {
                Console.Error.WriteLine($"[postgres] skipped: {ex.Message}");
                environment["PostgreSQL"] = $"not run: {ex.Message}";
            }
        }

        if (o.RunSqlite)
            await new SqliteBench(o, results, environment).RunAsync();

        Console.WriteLine(Report(environment, results));
        return 0;
    }

    private static string Report(Dictionary<string, string> environment, List<PhaseResult> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## Environment").AppendLine();
        foreach (var (key, value) in environment) sb.AppendLine(CultureInfo.InvariantCulture, $"- {key}: {value}");

        sb.AppendLine().AppendLine("## Results").AppendLine();
        sb.AppendLine("| Backend | Scenario | Writers | Ops | Events | ops/s | events/s | p50 ms | p99 ms | CPU µs/op: bench + PostgreSQL | Notes |");
        sb.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|");
        foreach (var r in results)
        {
            if (r.Error is not null)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {r.Backend} | {r.Scenario} | {r.Writers} | – | – | – | – | – | – | – | FAILED: {r.Error} |");
                continue;
            }

            var latency = r.P50Ms > 0 ? $"{r.P50Ms:0.00} | {r.P99Ms:0.00}" : "– | –";
            var cpu = r.ClientCpuUsPerOp <= 0 ? "–"
                : r.ServerCpuUsPerOp is { } server ? $"{r.ClientCpuUsPerOp:N0} + {server:N0}" : $"{r.ClientCpuUsPerOp:N0}";
            var note = r.ForeignCpuShare is > 0.10
                ? $"{r.Note}; ⚠ other load on the machine: {r.ForeignCpuShare:P0} of all CPU" : r.Note;
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Backend} | {r.Scenario} | {r.Writers} | {r.Ops:N0} | {r.Events:N0} | {r.OpsPerSecond:N0} | {r.EventsPerSecond:N0} | {latency} | {cpu} | {note} |");
        }

        var checks = new List<(string Name, double? Value, double Target, string Unit)>();
        sb.AppendLine().AppendLine("## Ratios").AppendLine();
        foreach (var writers in results.Select(r => r.Writers).Distinct().Order())
        {
            var raw = RawCeiling(results, writers);
            var single = Find(results, "PostgreSQL", "event store: 1-event appends", writers);
            if (raw is null || single is null) continue;
            var ratio = single.EventsPerSecond / raw.EventsPerSecond;
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"- PostgreSQL 1-event appends / raw INSERT ceiling @{writers}: {single.EventsPerSecond:N0} / {raw.EventsPerSecond:N0} = **{ratio:0.00}**");
            checks.Add(($"PostgreSQL 1-event appends @{writers} ≥ 0.7 × raw INSERT ceiling @{writers}", ratio, 0.7, "×"));
        }

        foreach (var (scenario, label) in new[]
                 {
                     ("event store: 1-event appends, no NOTIFY", "without NOTIFY"),
                     ("event store: 1-event appends, fresh database", "on the fresh database"),
                     ("event store: 1-event appends, with pool reset", "with Npgsql's pool reset"),
                 })
        {
            foreach (var writers in results.Select(r => r.Writers).Distinct().Order())
            {
                var raw = RawCeiling(results, writers);
                var single = Find(results, "PostgreSQL", scenario, writers);
                if (raw is null || single is null) continue;
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"- PostgreSQL 1-event appends {label} / raw INSERT ceiling @{writers}: {single.EventsPerSecond:N0} / {raw.EventsPerSecond:N0} = **{single.EventsPerSecond / raw.EventsPerSecond:0.00}** (diagnostic)");
            }
        }

        foreach (var writers in results.Select(r => r.Writers).Distinct().Order())
        {
            var raw = Find(results, "PostgreSQL", $"raw INSERT … SELECT unnest, {StorePhases.BatchSize} rows", writers);
            var batch = Find(results, "PostgreSQL", $"event store: {StorePhases.BatchSize}-event appends", writers);
            if (raw is null || batch is null) continue;
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"- PostgreSQL {StorePhases.BatchSize}-event appends / raw {StorePhases.BatchSize}-row INSERT @{writers}: {batch.EventsPerSecond:N0} / {raw.EventsPerSecond:N0} = **{batch.EventsPerSecond / raw.EventsPerSecond:0.00}** (diagnostic)");
        }

        foreach (var backend in new[] { "PostgreSQL", "SQLite" })
        {
            foreach (var r in results.Where(r => r.Backend == backend && r.Error is null
                         && r.Scenario == $"event store: {StorePhases.BatchSize}-event appends" && !r.Note.Contains("FULL", StringComparison.Ordinal)))
                checks.Add(($"{backend} {StorePhases.BatchSize}-event appends @{r.Writers} ≥ 20,000 events/s", r.EventsPerSecond, 20_000, "events/s"));
        }

        foreach (var r in results.Where(r => r.Scenario.StartsWith("$all read", StringComparison.Ordinal) && r.Error is null
                                             && !r.Note.StartsWith("diagnostic", StringComparison.Ordinal)))
            checks.Add(($"{r.Backend} {r.Scenario} ≥ 100,000 events/s", r.EventsPerSecond, 100_000, "events/s"));

        sb.AppendLine().AppendLine("## Targets (measured, not asserted)").AppendLine();
        sb.AppendLine("| Target | Measured | Result |").AppendLine("|---|--:|---|");
        foreach (var (name, value, target, unit) in checks)
        {
            var measured = unit == "×" ? $"{value:0.00}×" : $"{value:N0} {unit}";
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {measured} | {(value >= target ? "PASS" : "FAIL")} |");
        }

        return sb.ToString();
    }

    /// <summary>
    /// The single-row ceiling at this writer count: the better of the two raw 1-row INSERT phases (own connection, or a
    /// pooled connection per insert). They do the same work; taking the better one makes the ratio stricter and less noisy.
    /// </summary>
    private static PhaseResult? RawCeiling(List<PhaseResult> results, int writers) =>
        new[] { Find(results, "PostgreSQL", "raw INSERT, 1 row, autocommit, own connection", writers),
                Find(results, "PostgreSQL", "raw INSERT, 1 row, autocommit, pool open/close per insert", writers) }
            .Where(r => r is not null).MaxBy(r => r!.EventsPerSecond);

    private static PhaseResult? Find(List<PhaseResult> results, string backend, string scenario, int writers) =>
        results.FirstOrDefault(r => r.Backend == backend && r.Writers == writers && r.Error is null
                                    && r.Scenario == scenario && r.EventsPerSecond > 0);

    /// <summary><c>git rev-parse --short HEAD</c>, and whether the tree had changes (other sessions edit it in parallel).</summary>
    private static string Commit()
    {
        static string Git(string arguments)
        {
            try
            {
                using var git = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("git", arguments)
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    WorkingDirectory = AppContext.BaseDirectory,
                });
                if (git is null) return "";
                var output = git.StandardOutput.ReadToEnd();
                git.WaitForExit();
                return git.ExitCode == 0 ? output.Trim() : "";
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return "";
            }
        }

        var head = Git("rev-parse --short HEAD");
        if (head.Length == 0) return "unknown (git not available)";
        // ":/src": the repository's src/, whatever the working directory (the bench runs from its bin/ folder).
        var changed = Git("status --porcelain -- :/src").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        return changed == 0 ? $"{head}, src/ clean" : $"{head}, src/ with {changed} uncommitted changes (other sessions' work in progress; the host was built from that tree)";
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) + " (1, 5, 15 min)";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (UnauthorizedAccessException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    private static string MemoryGiB() =>
        (GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024)).ToString("0.#", CultureInfo.InvariantCulture);
}
