using System.Globalization;
using System.Text;

namespace Triggers.Modular.Bench;

/// <summary>The markdown report of <c>--only executions</c>: environment, throughput/latency, ceiling ratios, CPU, memory, targets.</summary>
internal static class ExecutionsReport
{
    public const double TargetCompletionsPerSecond = 1_000;
    public const double TargetRssMiB = 500;

    public static string Render(Dictionary<string, string> environment, List<ExecutionsThroughput> throughput, List<ExecutionsMemory> memory)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## Environment").AppendLine();
        foreach (var (key, value) in environment) sb.AppendLine(CultureInfo.InvariantCulture, $"- {key}: {value}");

        var webhooks = environment.ContainsKey("Webhooks");
        sb.AppendLine().AppendLine(webhooks
            ? "## Webhook-triggered executions: throughput and start→complete latency (3 `set` steps, HMAC-verified requests)"
            : "## Executions: throughput and start→complete latency (3 `set` steps)").AppendLine();
        if (webhooks)
            sb.AppendLine("Accepted/s here are webhook requests answered 202; \"Trigger POST\" is the webhook request's latency at the " +
                          "client; latency is the execution's created_at (its start, after the request was recorded) to finished_at.").AppendLine();
        sb.AppendLine("Accepted/s: 202 answers over the bench's start window. Completions/s: completed ÷ (last finished_at − first " +
                      "created_at), server timestamps from the list endpoint; \"while starting\": completions with finished_at inside " +
                      "[first, last created_at] ÷ that span. Latency: finished_at − created_at of each completed execution. Tail: " +
                      "last finished_at − last created_at.").AppendLine();
        sb.AppendLine("| Store | Clients | Accepted | Start errors | Accepted/s | Completed | Failed / unfinished / missing | Completions/s | " +
                      "Completions/s while starting | Latency p50 / p95 / p99 / max ms | Tail s | Trigger POST p50 / p99 ms | Notes |");
        sb.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
        foreach (var r in throughput)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Store} | {r.Clients} | {r.Accepted:N0} | {r.StartErrors:N0} | {r.AcceptedPerSecond:N0} | {r.Completed:N0} | " +
                $"{r.Failed:N0} / {r.Unfinished:N0} / {r.MissingFromList:N0} | **{r.CompletionsPerSecond:N0}** | {r.CompletionsPerSecondWhileStarting:N0} | " +
                $"{r.LatencyP50Ms:N0} / {r.LatencyP95Ms:N0} / {r.LatencyP99Ms:N0} / {r.LatencyMaxMs:N0} | {r.TailSeconds:0.0} | " +
                $"{r.PostP50Ms:0.0} / {r.PostP99Ms:0.0} | {Notes(r)} |");
        }

        sb.AppendLine().AppendLine("## Against the raw single-row insert ceiling of the same store (same run)").AppendLine();
        sb.AppendLine("Appends per execution are read from the store after the phase (PostgreSQL: distinct writing transactions of " +
                      "execution events; SQLite: distinct (stream, created_at)); the estimate 1 start + 2 per step = 7 when unavailable. " +
                      "Implied appends/s = completions/s × appends per execution. Ratio = implied appends/s ÷ raw inserts/s.").AppendLine();
        sb.AppendLine("| Store | Clients | Raw ceiling | Raw 1-row inserts/s | Events / appends per execution | Implied appends/s | Ratio | Ceiling ÷ appends per execution (completions/s bound) |");
        sb.AppendLine("|---|--:|---|--:|--:|--:|--:|--:|");
        foreach (var r in throughput)
        {
            if (r.Ceiling is not { } c)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {r.Store} | {r.Clients} | – | – | – | – | – | – |");
                continue;
            }

            var appends = r.AppendsPerExecution ?? ExecutionsBench.EstimatedAppendsPerExecution;
            var implied = r.CompletionsPerSecond * appends;
            var perExecution = r.EventsPerExecution is { } e ? $"{e:0.0} / {appends:0.0}" : $"– / {appends:0} (estimate)";
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Store} | {r.Clients} | {c.Scenario} @{c.Writers} | {c.EventsPerSecond:N0} | {perExecution} | {implied:N0} | " +
                $"**{implied / c.EventsPerSecond:0.00}** | {c.EventsPerSecond / appends:N0} |");
        }

        sb.AppendLine().AppendLine(CultureInfo.InvariantCulture,
            $"## CPU (% of one core; the machine has {Environment.ProcessorCount}, i.e. {Environment.ProcessorCount * 100} % in all)").AppendLine();
        sb.AppendLine("Starts: the bench's start window (starts and runtime together). Drain: after the last start until every execution " +
                      "was seen finished in the list (runtime, projections and the bench's list polling). PostgreSQL: the backends of " +
                      "the bench database plus the server's auxiliary processes. Other: everything else on the machine. CPU per execution: " +
                      "CPU seconds of both windows ÷ finished executions. WAL and transactions: server-wide counters over both windows " +
                      "(other databases' work on the shared server counts too).").AppendLine();
        sb.AppendLine("| Store | Clients | Window | s | bench | host | PostgreSQL | other | CPU ms per execution: bench / host / PostgreSQL | WAL B / transactions per execution | Host RSS after, MiB |");
        sb.AppendLine("|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var r in throughput)
        {
            var server = r.WalBytesPerCompletion is { } wal ? $"{wal:N0} / {r.TransactionsPerCompletion:0.0}" : "–";
            var rss = r.HostMemoryAfter is { } m ? m.RssMiB.ToString("N0", CultureInfo.InvariantCulture) : "–";
            var finished = Math.Max(1, r.Completed + r.Failed);
            var perExecution = string.Create(CultureInfo.InvariantCulture,
                $"{r.CpuSeconds.Bench * 1000 / finished:0.0} / {r.CpuSeconds.Host * 1000 / finished:0.0} / {(r.CpuSeconds.Postgres is { } pg ? (pg * 1000 / finished).ToString("0.0", CultureInfo.InvariantCulture) : "–")}");
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Store} | {r.Clients} | starts | {r.StartWindowSeconds:0.0} | {Cpu(r.StartCpu)} | {perExecution} (both windows) | {server} | {rss} |");
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Store} | {r.Clients} | drain | {r.DrainWallSeconds:0.0} | {Cpu(r.DrainCpu)} | | | |");
        }

        if (throughput.Any(r => r.DatabaseStatsPerExecution is not null))
        {
            sb.AppendLine().AppendLine("PostgreSQL work per finished execution, from pg_stat_database of the bench database over the phase " +
                                       "(read 11 s after the drain, once every backend flushed its counters; the bench's own counter and " +
                                       "list queries through the host count too):").AppendLine();
            sb.AppendLine("| Store | Clients | Transactions (read-only included) | Rows inserted | Rows updated | Rows deleted | Rows read |");
            sb.AppendLine("|---|--:|--:|--:|--:|--:|--:|");
            foreach (var r in throughput)
            {
                if (r.DatabaseStatsPerExecution is not { } d) continue;
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"| {r.Store} | {r.Clients} | {d.Transactions:0.0} | {d.Inserted:0.0} | {d.Updated:0.0} | {d.Deleted:0.0} | {d.Read:N0} |");
            }
        }

        if (throughput.Any(r => r.TableReadsPerExecution.Count > 0))
        {
            sb.AppendLine().AppendLine("Tables read most, per finished execution (pg_stat_user_tables over the same span):").AppendLine();
            sb.AppendLine("| Store | Clients | Table | Seq scans | Rows read by seq scans | Index scans | Rows fetched by index scans |");
            sb.AppendLine("|---|--:|---|--:|--:|--:|--:|");
            foreach (var r in throughput)
            {
                foreach (var (table, seqScans, seqRows, indexScans, indexRows) in r.TableReadsPerExecution)
                    sb.AppendLine(CultureInfo.InvariantCulture,
                        $"| {r.Store} | {r.Clients} | {table} | {seqScans:0.0} | {seqRows:N0} | {indexScans:0.0} | {indexRows:N0} |");
            }
        }

        sb.AppendLine().AppendLine("## Memory with executions in flight (one `delay` step each)").AppendLine();
        sb.AppendLine("A fresh host on a fresh store per row. Idle: after start and one definition created, 3 s later. In flight: when the " +
                      "list first showed every accepted execution `running` (its delay step started and sleeps). +10 s: ten seconds " +
                      "later. VmRSS and VmHWM (peak) from /proc/{pid}/status of the host process.").AppendLine();
        sb.AppendLine("| Store | Executions | Start errors | Started in s (/s) | Running / pending / other | Host CPU while starting | RSS idle MiB | " +
                      "RSS in flight MiB | RSS +10 s MiB | VmHWM MiB | Δ RSS per execution KiB | Notes |");
        sb.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
        foreach (var m in memory)
        {
            var delta = m.Idle is { } idle && m.Settled is { } settled && m.Accepted > 0
                ? ((settled.RssKiB - idle.RssKiB) / (double)m.Accepted).ToString("0.0", CultureInfo.InvariantCulture) : "–";
            var rate = m.StartSeconds > 0 ? m.Accepted / m.StartSeconds : 0;
            var notes = new List<string>();
            if (m.Error is not null) notes.Add($"⚠ {m.Error}");
            if (m.StartErrorKinds.Length > 0) notes.Add(m.StartErrorKinds);
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"all running {m.SettleSeconds:0.0} s after the last start"));
            if (m.HostErrorLines > 0) notes.Add($"host logged {m.HostErrorLines:N0} error lines, the last: {m.HostLastError}");
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {m.Store} | {m.Accepted:N0} | {m.StartErrors:N0} | {m.StartSeconds:0.0} ({rate:N0}) | {m.Running:N0} / {m.Pending:N0} / {m.Other:N0} | " +
                $"{m.HostCpuPercentWhileStarting:N0} % | {Mib(m.Idle?.RssMiB)} | **{Mib(m.InFlight?.RssMiB)}** | {Mib(m.Settled?.RssMiB)} | " +
                $"{Mib(m.Settled?.HwmMiB)} | {delta} | {Escape(string.Join("; ", notes))} |");
        }

        sb.AppendLine().AppendLine("## Targets (measured, not asserted)").AppendLine();
        sb.AppendLine("| Target | Measured | Result |").AppendLine("|---|--:|---|");
        foreach (var r in throughput.Where(r => r.Store == "PostgreSQL"))
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| PostgreSQL @{r.Clients} clients ≥ {TargetCompletionsPerSecond:N0} completions/s | {r.CompletionsPerSecond:N0} /s | {Verdict(r.Error is null && r.CompletionsPerSecond >= TargetCompletionsPerSecond)} |");
        foreach (var m in memory)
        {
            var peak = new[] { m.InFlight?.RssMiB, m.Settled?.RssMiB }.Max();
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {m.Store}: < {TargetRssMiB:N0} MB resident with {m.Target:N0} in flight | {Mib(peak)} MiB (VmHWM {Mib(m.Settled?.HwmMiB)}) | " +
                $"{Verdict(m.Error is null && m.Accepted >= m.Target && peak is { } p && p * 1.048576 < TargetRssMiB)} |");
        }

        return sb.ToString();
    }

    private static string Verdict(bool pass) => pass ? "PASS" : "FAIL";

    private static string Mib(double? value) => value is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "–";

    private static string Cpu((double Bench, double Host, double? Postgres, double? Other) cpu) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{cpu.Bench:N0} % | {cpu.Host:N0} % | {(cpu.Postgres is { } p ? $"{p:N0} %" : "–")} | {(cpu.Other is { } o ? $"{o:N0} %" : "–")}");

    private static string Notes(ExecutionsThroughput r)
    {
        var notes = new List<string>();
        if (r.Error is not null) notes.Add($"⚠ {r.Error}");
        if (r.StartErrorKinds.Length > 0) notes.Add(r.StartErrorKinds);
        if (r.ListErrors.Length > 0) notes.Add($"list reads retried (run so far): {r.ListErrors}");
        if (r.HostErrorLines > 0 || (r.Error is not null && r.HostLastError is not null))
            notes.Add($"host logged {r.HostErrorLines:N0} error lines, the last: {r.HostLastError}");
        if (r.StartCpu.Other is > 20) notes.Add(string.Create(CultureInfo.InvariantCulture, $"⚠ other load on the machine: {r.StartCpu.Other:N0} % of a core"));
        return Escape(string.Join("; ", notes));
    }

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
