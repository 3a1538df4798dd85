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

    /// <summary>CPU time of everything else on the machine per operation: the database server, mostly (Linux only).</summary>
    public double? OtherCpuUsPerOp { get; init; }
}

/// <summary>CPU time of this process and of the whole machine (from /proc/stat, when there is one).</summary>
internal readonly record struct CpuSample(TimeSpan Process, TimeSpan? Machine)
{
    public static CpuSample Take()
    {
        var process = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        TimeSpan? machine = null;
        try
        {
            // "cpu  user nice system idle iowait irq softirq steal ..." in USER_HZ (100 per second on Linux).
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var busy = new[] { 1, 2, 3, 6, 7, 8 }.Sum(i => long.Parse(fields[i], System.Globalization.CultureInfo.InvariantCulture));
            machine = TimeSpan.FromSeconds(busy / 100.0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // Not Linux: only the process figure.
        }

        return new CpuSample(process, machine);
    }

    public (TimeSpan Client, TimeSpan? Other) Since(CpuSample before)
    {
        var client = Process - before.Process;
        TimeSpan? other = Machine is { } m && before.Machine is { } b ? (m - b) - client : null;
        return (client, other is { } o && o < TimeSpan.Zero ? TimeSpan.Zero : other);
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

        var (clientCpu, otherCpu) = CpuSample.Take().Since(cpu);
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
            OtherCpuUsPerOp = totalOps.Sum() > 0 && otherCpu is { } other ? other.TotalMicroseconds / totalOps.Sum() : null,
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
