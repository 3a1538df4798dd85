using System.Diagnostics;
using System.Globalization;

namespace Triggers.Modular.Bench;

/// <summary>Cumulative CPU since the tracker started: this process, the host, PostgreSQL, the whole machine.</summary>
internal readonly record struct CpuTotals(TimeSpan Bench, TimeSpan Host, TimeSpan? Postgres, TimeSpan? Machine, long Timestamp)
{
    /// <summary>% of one core per process between two snapshots; other = the machine minus the three.</summary>
    public CpuShare Since(CpuTotals before)
    {
        var seconds = Stopwatch.GetElapsedTime(before.Timestamp, Timestamp).TotalSeconds;
        if (seconds <= 0) return default;
        var bench = (Bench - before.Bench).TotalSeconds;
        var host = (Host - before.Host).TotalSeconds;
        double? postgres = Postgres is { } p && before.Postgres is { } bp ? (p - bp).TotalSeconds : null;
        double? other = Machine is { } m && before.Machine is { } bm && postgres is { } pg
            ? Math.Max(0, (m - bm).TotalSeconds - bench - host - pg) : null;
        return new CpuShare(bench / seconds * 100, host / seconds * 100, postgres / seconds * 100, other / seconds * 100);
    }

    /// <summary>CPU seconds between two snapshots: bench, host, PostgreSQL.</summary>
    public (double Bench, double Host, double? Postgres) SecondsSince(CpuTotals before) =>
        ((Bench - before.Bench).TotalSeconds, (Host - before.Host).TotalSeconds,
            Postgres is { } p && before.Postgres is { } bp ? (p - bp).TotalSeconds : null);
}

/// <summary>
/// CPU of the PostgreSQL processes serving one database (its backends, plus the server's auxiliary processes, as
/// <see cref="CpuSample"/> counts them), sampled from /proc every 200 ms and kept per process id, so a backend that exits
/// between two snapshots (the host's pool closing idle connections) keeps the CPU it used instead of disappearing from
/// the sum (which made <see cref="CpuSample"/>'s figure negative in a run). Linux only; elsewhere the PostgreSQL and
/// machine figures are null.
/// </summary>
internal sealed class CpuTracker : IAsyncDisposable
{
    private const double Hz = 100; // USER_HZ
    private readonly string _database;
    private readonly Process _host;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, long> _last = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _ticks;
    private bool _available = true;

    public CpuTracker(string database, Process host)
    {
        _database = database;
        _host = host;
        lock (_gate) Sample(initial: true);
        _loop = Task.Run(LoopAsync);
    }

    public CpuTotals Snapshot()
    {
        TimeSpan? postgres;
        lock (_gate)
        {
            Sample(initial: false);
            postgres = _available ? TimeSpan.FromSeconds(_ticks / Hz) : null;
        }

        var host = TimeSpan.Zero;
        try
        {
            _host.Refresh();
            host = _host.TotalProcessorTime;
        }
        catch (InvalidOperationException)
        {
            // The host exited; the phase reports it.
        }

        return new CpuTotals(Process.GetCurrentProcess().TotalProcessorTime, host, postgres, Machine(), Stopwatch.GetTimestamp());
    }

    private async Task LoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), _stop.Token);
                lock (_gate) Sample(initial: false);
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    /// <summary>Adds each process's CPU since it was last seen; a new process counts from zero (it started since the last
    /// sample), except on the first sample, which only records where each one stands.</summary>
    private void Sample(bool initial)
    {
        if (!_available) return;
        try
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                var name = Path.GetFileName(dir);
                if (name.Length == 0 || !char.IsAsciiDigit(name[0]) || !int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
                if (Ticks(dir) is not { } ticks) continue;
                var seen = _last.TryGetValue(pid, out var before);
                if (!initial) _ticks += seen && ticks >= before ? ticks - before : ticks; // lower than before: the id was reused
                _last[pid] = ticks;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _available = false;
        }
    }

    /// <summary>utime + stime of a PostgreSQL process of the database (or an auxiliary one); null for anything else.</summary>
    private long? Ticks(string dir)
    {
        try
        {
            var title = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
            if (!title.StartsWith("postgres: ", StringComparison.Ordinal)) return null;
            var isClient = title.Contains("127.0.0.1(", StringComparison.Ordinal) || title.Contains("[local]", StringComparison.Ordinal)
                           || title.Contains("autovacuum worker", StringComparison.Ordinal);
            if (isClient && !title.Contains($" {_database} ", StringComparison.Ordinal)
                         && !title.EndsWith($" {_database}", StringComparison.Ordinal)) return null;
            var stat = File.ReadAllText(Path.Combine(dir, "stat"));
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null; // ended meanwhile
        }
    }

    private static TimeSpan? Machine()
    {
        try
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return TimeSpan.FromSeconds(new[] { 1, 2, 3, 6, 7, 8 }.Sum(i => long.Parse(fields[i], CultureInfo.InvariantCulture)) / Hz);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
