using System.Diagnostics;

namespace Triggers.Modular.Bench;

/// <summary>One concurrent loop of a timed phase: <see cref="RunOnceAsync"/> does one operation and returns the events it moved.</summary>
internal sealed class Writer(Func<Task<int>> runOnce, Func<ValueTask>? dispose = null) : IAsyncDisposable
{
    public Task<int> RunOnceAsync() => runOnce();

    public ValueTask DisposeAsync() => dispose?.Invoke() ?? ValueTask.CompletedTask;
}

/// <summary>The measured outcome of one phase (one row of the results table).</summary>
internal sealed record PhaseResult(
    string Backend,
    string Scenario,
    int Writers,
    long Ops,
    long Events,
    double Seconds,
    double P50Ms,
    double P99Ms,
    string Note = "",
    string? Error = null)
{
    public double OpsPerSecond => Seconds > 0 ? Ops / Seconds : 0;
    public double EventsPerSecond => Seconds > 0 ? Events / Seconds : 0;

    /// <summary>Operations done during warm-up and measurement together (for per-op server counters).</summary>
    public long TotalOps { get; init; }

    public long TotalEvents { get; init; }

    /// <summary>CPU time of this process per operation (warm-up included).</summary>
    public double ClientCpuUsPerOp { get; init; }

    /// <summary>CPU time of the PostgreSQL processes serving the bench database, per operation (Linux only).</summary>
    public double? ServerCpuUsPerOp { get; init; }

    /// <summary>CPU time of the host process under test (HTTP phases), per operation; null elsewhere.</summary>
    public double? HostCpuUsPerOp { get; init; }

    /// <summary>Share of the machine's CPU used by anything else during the phase (other work on the machine).</summary>
    public double? ForeignCpuShare { get; init; }
}

/// <summary>
/// CPU time of this process, of the PostgreSQL processes that serve <see cref="PostgresDatabase"/> (its backends and
/// the server's auxiliary processes), of the host process under test (<see cref="HostProcess"/>, HTTP phases), and of
/// the whole machine; from /proc on Linux, process only elsewhere.
/// </summary>
internal readonly record struct CpuSample(TimeSpan Process, TimeSpan? Server, TimeSpan? Host, TimeSpan? Machine, long Timestamp)
{
    /// <summary>The bench database whose backends count as "server"; null outside the PostgreSQL phases.</summary>
    public static string? PostgresDatabase { get; set; }

    /// <summary>The host process the HTTP phases call (a child of the bench); null outside them.</summary>
    public static System.Diagnostics.Process? HostProcess { get; set; }

    private const double Hz = 100; // USER_HZ

    public static CpuSample Take()
    {
        var process = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        TimeSpan? machine = null, server = null, host = null;
        if (HostProcess is { } child)
        {
            try
            {
                child.Refresh();
                host = child.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                // The host exited; the phase reports its errors.
            }
        }

        try
        {
            // "cpu  user nice system idle iowait irq softirq steal ..."
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            machine = TimeSpan.FromSeconds(new[] { 1, 2, 3, 6, 7, 8 }.Sum(i => long.Parse(fields[i], System.Globalization.CultureInfo.InvariantCulture)) / Hz);
            server = PostgresDatabase is null ? TimeSpan.Zero : ServerCpu(PostgresDatabase);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // Not Linux: only the process figure.
        }

        return new CpuSample(process, server, host, machine, Stopwatch.GetTimestamp());
    }

    /// <summary>Backends titled "postgres: …: user {database} host(port) …" plus auxiliary processes (no client address).</summary>
    private static TimeSpan ServerCpu(string database)
    {
        long ticks = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var pid = Path.GetFileName(dir);
            if (pid.Length == 0 || !char.IsAsciiDigit(pid[0])) continue;
            try
            {
                var title = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (!title.StartsWith("postgres: ", StringComparison.Ordinal)) continue;
                var isClient = title.Contains("127.0.0.1(", StringComparison.Ordinal) || title.Contains("[local]", StringComparison.Ordinal)
                               || title.Contains("autovacuum worker", StringComparison.Ordinal);
                if (isClient && !title.Contains($" {database} ", StringComparison.Ordinal)
                             && !title.EndsWith($" {database}", StringComparison.Ordinal)) continue;
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // After "pid (comm) ": state is f[0], so utime (field 14) is f[11] and stime (15) f[12].
                ticks += long.Parse(f[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(f[12], System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
                // The process ended meanwhile.
            }
        }

        return TimeSpan.FromSeconds(ticks / Hz);
    }

    /// <summary>(bench, server, host under test, foreign share of all CPUs) between two samples.</summary>
    public (TimeSpan Client, TimeSpan? Server, TimeSpan? Host, double? ForeignShare) Since(CpuSample before)
    {
        var client = Process - before.Process;
        TimeSpan? host = Host is { } h && before.Host is { } bh ? h - bh : null;
        if (Machine is not { } m || before.Machine is not { } b || Server is not { } s || before.Server is not { } bs)
            return (client, null, host, null);
        var server = s - bs;
        var foreign = (m - b) - client - server - (host ?? TimeSpan.Zero);
        var capacity = Stopwatch.GetElapsedTime(before.Timestamp, Timestamp).TotalSeconds * Environment.ProcessorCount;
        var share = capacity > 0 ? Math.Max(0, foreign.TotalSeconds) / capacity : 0;
        return (client, PostgresDatabase is null ? null : server, host, share);
    }
}

/// <summary>
/// Runs <c>writers</c> loops concurrently for warm-up + duration. An operation counts when it <em>completes</em>
/// inside the measurement window; its latency is its own start-to-finish time. All loops stop at the end of the
/// window, so the last operation of each loop may overrun it slightly (it is not counted).
/// </summary>
internal static class Phase
{
    /// <param name="minOps">When an operation is slow, the window is extended (up to <see cref="MaxExtension"/>) until this
    /// many operations completed in it, so a figure never rests on zero or one sample.</param>
    public static async Task<PhaseResult> RunAsync(string backend, string scenario, int writers, TimeSpan warmup,
        TimeSpan duration, Func<int, Task<Writer>> createWriter, string note = "", int minOps = 1)
    {
        var loops = new Writer[writers];
        for (var i = 0; i < writers; i++) loops[i] = await createWriter(i);

        var cpu = CpuSample.Take();
        var latencies = new List<long>[writers];
        var events = new long[writers];
        var totalOps = new long[writers];
        var totalEvents = new long[writers];
        var start = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var cap = end + (long)(MaxExtension.TotalSeconds * Stopwatch.Frequency);
        long counted = 0;
        long lastCounted = end;
        var firstCountedStart = long.MaxValue;
        try
        {
            var tasks = new Task[writers];
            for (var w = 0; w < writers; w++)
            {
                var index = w;
                latencies[index] = new List<long>(100_000);
                tasks[index] = Task.Run(async () =>
                {
                    var loop = loops[index];
                    var mine = latencies[index];
                    while (true)
                    {
                        var t0 = Stopwatch.GetTimestamp();
                        if (t0 >= end && (Interlocked.Read(ref counted) >= minOps || t0 >= cap)) break;
                        var n = await loop.RunOnceAsync();
                        var t1 = Stopwatch.GetTimestamp();
                        totalOps[index]++;
                        totalEvents[index] += n;
                        if (t1 >= start && (t1 < end || Interlocked.Read(ref counted) < minOps))
                        {
                            mine.Add(t1 - t0);
                            events[index] += n;
                            Interlocked.Increment(ref counted);
                            if (t1 >= end) InterlockedMax(ref lastCounted, t1);
                            InterlockedMin(ref firstCountedStart, t0);
                        }
                    }
                });
            }

            await Task.WhenAll(tasks);
        }
        catch (Exception ex)
        {
            return new PhaseResult(backend, scenario, writers, 0, 0, 0, 0, 0, note, ex.GetType().Name + ": " + ex.Message);
        }
        finally
        {
            foreach (var loop in loops) await loop.DisposeAsync();
        }

        var (clientCpu, serverCpu, hostCpu, foreignShare) = CpuSample.Take().Since(cpu);
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        var seconds = duration.TotalSeconds;
        if (lastCounted > end)
        {
            // Extended for slow operations: the window spans the counted operations themselves, warm-up overlap included.
            seconds = (double)(lastCounted - Math.Min(start, firstCountedStart)) / Stopwatch.Frequency;
            note = $"{note}; window extended to {seconds:0.#} s for {minOps} samples";
        }

        return new PhaseResult(backend, scenario, writers, all.Length, events.Sum(), seconds,
            PercentileMs(all, 0.50), PercentileMs(all, 0.99), note)
        {
            TotalOps = totalOps.Sum(),
            TotalEvents = totalEvents.Sum(),
            ClientCpuUsPerOp = totalOps.Sum() > 0 ? clientCpu.TotalMicroseconds / totalOps.Sum() : 0,
            ServerCpuUsPerOp = totalOps.Sum() > 0 && serverCpu is { } server ? server.TotalMicroseconds / totalOps.Sum() : null,
            HostCpuUsPerOp = totalOps.Sum() > 0 && hostCpu is { } host ? host.TotalMicroseconds / totalOps.Sum() : null,
            ForeignCpuShare = foreignShare,
        };
    }

    private static readonly TimeSpan MaxExtension = TimeSpan.FromSeconds(120);

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while ((current = Interlocked.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private static void InterlockedMin(ref long target, long value)
    {
        long current;
        while ((current = Interlocked.Read(ref target)) > value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    /// <summary>Nearest-rank percentile of sorted Stopwatch-tick durations, in milliseconds.</summary>
    private static double PercentileMs(long[] sorted, double p)
    {
        if (sorted.Length == 0) return 0;
        var rank = (int)Math.Ceiling(p * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)] * 1000.0 / Stopwatch.Frequency;
    }
}
