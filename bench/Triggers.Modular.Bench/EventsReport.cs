using System.Globalization;
using System.Text;

namespace Triggers.Modular.Bench;

/// <summary>The markdown report of <c>--only events</c>: environment, acceptance, routing and dispatch, ceiling, CPU, targets.</summary>
internal static class EventsReport
{
    public const double TargetAcceptedPerSecond = 5_000;
    public const double TargetAcceptP99Ms = 25;
    public const double TargetDispatchP50Ms = 10;
    public const double TargetDispatchP99Ms = 100;

    /// <summary>The open loop "ran at the rate" when it accepted at least this share of the target rate.</summary>
    public const double RateTolerance = 0.98;

    public static string Render(Dictionary<string, string> environment, List<EventsPhase> phases)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## Environment").AppendLine();
        foreach (var (key, value) in environment) sb.AppendLine(CultureInfo.InvariantCulture, $"- {key}: {value}");

        sb.AppendLine().AppendLine("## Acceptance (client side)").AppendLine();
        sb.AppendLine("Closed loop: each client sends its next event when the previous one is answered; accepted/s = 202 answers " +
                      "completed inside the window ÷ window; latency = request start → answer. Open loop: sends due every 1/rate s; " +
                      "accept latency = *due* time → answer (waiting for a free worker counts), service = actual send → answer, send lag = " +
                      "actual send − due time; accepted/s = accepted ÷ (first due send → last answer). Batches: latency per request of " +
                      $"{EventsBench.BatchSize} events.").AppendLine();
        sb.AppendLine("| Phase | Load | Clients | Window s | Requests | Events accepted | Errors | Accepted events/s | Accept p50 / p99 / max ms | " +
                      "Open loop: service p50 / p99 ms, send lag p99 / max ms | Notes |");
        sb.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|");
        foreach (var p in phases)
        {
            var open = p.Service is { } s && p.SendLag is { } l
                ? string.Create(CultureInfo.InvariantCulture, $"{s.P50Ms:0.0} / {s.P99Ms:0.0}, {l.P99Ms:0.0} / {l.MaxMs:0.0}") : "–";
            var name = p.TargetRate is { } rate ? string.Create(CultureInfo.InvariantCulture, $"{p.Name} at {rate:N0}/s") : p.Name;
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {name} | {p.Mode} | {p.Clients} | {p.WindowSeconds:0.0} | {p.Requests:N0} | {p.Accepted:N0} | {p.Errors:N0} | " +
                $"**{p.AcceptedPerSecond:N0}** | {Ms(p.Accept.P50Ms)} / {Ms(p.Accept.P99Ms)} / {Ms(p.Accept.MaxMs)} | {open} | {Escape(Notes(p))} |");
        }

        foreach (var p in phases.Where(p => p.Timeline.Count > 0))
        {
            sb.AppendLine().AppendLine(CultureInfo.InvariantCulture,
                $"Open loop at {p.TargetRate:N0}/s, second by second (by due time), ms: accept latency from the due time, service (send → answer), largest send lag:").AppendLine();
            sb.AppendLine("| Second | " + string.Join(" | ", p.Timeline.Select(t => t.Second.ToString(CultureInfo.InvariantCulture))) + " |");
            sb.AppendLine("|---|" + string.Concat(p.Timeline.Select(_ => "--:|")));
            sb.AppendLine("| p50 / p99 | " + string.Join(" | ", p.Timeline.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.FromDue.P50Ms:N0} / {t.FromDue.P99Ms:N0}"))) + " |");
            sb.AppendLine("| service p50 / p99 | " + string.Join(" | ", p.Timeline.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Service.P50Ms:N0} / {t.Service.P99Ms:N0}"))) + " |");
            sb.AppendLine("| send lag max | " + string.Join(" | ", p.Timeline.Select(t => t.MaxLagMs.ToString("N0", CultureInfo.InvariantCulture))) + " |");
        }

        sb.AppendLine().AppendLine("## Routing and executions (from the store)").AppendLine();
        sb.AppendLine("Per accepted event of the phase, from `event_store.events.created_at` (the host's clock when it appended): accepted " +
                      "= revision 0 of `event-{id}`; decision = revision 1 (`triggers.trigger_fired`); started = revision 0 of " +
                      "`execution-{execution_id}` (`executions.execution_started`, causation_id = the event id). Lag: one query right " +
                      "after the window's last answer. Drain: last decision / last start − the window's end. Rates: decisions (starts) " +
                      "with created_at inside the window ÷ window, and after it ÷ (last one − window end). Dispatch = started − " +
                      "accepted (only events whose execution started).").AppendLine();
        sb.AppendLine("| Phase | At window end: undecided / fired, not started | Caught up (last decision / last start, s after the window) | " +
                      "Decided/s in window / after | Started/s in window / after | Accepted → decided p50 / p99 ms | Decided → started p50 / p99 ms | " +
                      "**Dispatch** p50 / p99 / max ms | Fired / other decisions / mismatches |");
        sb.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var p in phases)
        {
            var caught = p.Drained
                ? string.Create(CultureInfo.InvariantCulture, $"yes ({Seconds(p.DecidedDrainSeconds)} / {Seconds(p.StartedDrainSeconds)})")
                : string.Create(CultureInfo.InvariantCulture, $"**NO** ({p.LeftAtDeadline.Undecided:N0} undecided, {p.LeftAtDeadline.NotStarted:N0} not started at the deadline)");
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {Label(p)} | {p.LagAtEnd.Undecided:N0} / {p.LagAtEnd.NotStarted:N0} | {caught} | " +
                $"{p.DecidedPerSecondInWindow:N0} / {p.DecidedPerSecondAfter:N0} | {p.StartedPerSecondInWindow:N0} / {p.StartedPerSecondAfter:N0} | " +
                $"{p.Routing.P50Ms:N0} / {p.Routing.P99Ms:N0} | {p.Start.P50Ms:N0} / {p.Start.P99Ms:N0} | " +
                $"**{p.Dispatch.P50Ms:N0} / {p.Dispatch.P99Ms:N0}** / {p.Dispatch.MaxMs:N0} | {p.Fired:N0} / {p.OtherDecisions:N0} / {p.Mismatches:N0} |");
        }

        sb.AppendLine().AppendLine("## Against the raw single-row insert ceiling (same run, same database, before the host started)").AppendLine();
        sb.AppendLine("Ceiling: 1-row autocommit INSERTs into a table shaped like `event_store.events` at the phase's client count, the better " +
                      "of an own connection per writer and a pooled open/close per insert. An accepted event is one append (one row, one " +
                      "transaction); routing and the executions add more writes in the same database at the same time.").AppendLine();
        sb.AppendLine("| Phase | Clients | Raw 1-row inserts/s | Accepted events/s | Ratio |");
        sb.AppendLine("|---|--:|--:|--:|--:|");
        foreach (var p in phases.Where(p => p.Ceiling is not null))
        {
            var c = p.Ceiling!;
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {Label(p)} | {p.Clients} | {c.EventsPerSecond:N0} ({(c.Scenario.Contains("own", StringComparison.Ordinal) ? "own connection" : "pooled")}) | " +
                $"{p.AcceptedPerSecond:N0} | **{p.AcceptedPerSecond / c.EventsPerSecond:0.00}** |");
        }

        sb.AppendLine().AppendLine(CultureInfo.InvariantCulture,
            $"## CPU (% of one core; the machine has {Environment.ProcessorCount}, i.e. {Environment.ProcessorCount * 100} % in all)").AppendLine();
        sb.AppendLine("Window: the phase's sends. After: from the window's end until routing and executions caught up (or the deadline), " +
                      "with the bench polling the store every 250 ms. PostgreSQL: the bench database's backends plus the server's " +
                      "auxiliary processes. Other: everything else on the machine. Per event: CPU seconds of both windows ÷ events " +
                      "accepted (acceptance, routing and the execution together).").AppendLine();
        sb.AppendLine("| Phase | Window | s | bench | host | PostgreSQL | other | CPU ms per event: bench / host / PostgreSQL |");
        sb.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|");
        foreach (var p in phases)
        {
            var perEvent = string.Create(CultureInfo.InvariantCulture,
                $"{p.CpuMsPerEvent.Bench:0.00} / {p.CpuMsPerEvent.Host:0.00} / {(p.CpuMsPerEvent.Postgres is { } pg ? pg.ToString("0.00", CultureInfo.InvariantCulture) : "–")}");
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {Label(p)} | sends | {p.WindowSeconds:0.0} | {Cpu(p.WindowCpu)} | {perEvent} |");
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {Label(p)} | after | {p.DrainWallSeconds:0.0} | {Cpu(p.DrainCpu)} | |");
        }

        if (phases.Any(p => p.DatabasePerEvent is not null))
        {
            sb.AppendLine().AppendLine("PostgreSQL work per accepted event, from pg_stat_database of the bench database from the window's start " +
                                       "until caught up (read 11 s later, once every backend flushed its counters; acceptance, routing, the " +
                                       "execution, projections, and the bench's own lag and drain queries together):").AppendLine();
            sb.AppendLine("| Phase | Transactions (read-only included) | Rows inserted | Rows updated | Rows deleted | Rows read |");
            sb.AppendLine("|---|--:|--:|--:|--:|--:|");
            foreach (var p in phases)
            {
                if (p.DatabasePerEvent is not { } d) continue;
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"| {Label(p)} | {d.Transactions:0.0} | {d.Inserted:0.0} | {d.Updated:0.0} | {d.Deleted:0.0} | {d.Read:N0} |");
            }

            sb.AppendLine().AppendLine("Tables read most, per accepted event (pg_stat_user_tables over the same span):").AppendLine();
            sb.AppendLine("| Phase | Table | Seq scans | Rows read by seq scans | Index scans | Rows fetched by index scans |");
            sb.AppendLine("|---|---|--:|--:|--:|--:|");
            foreach (var p in phases)
            {
                foreach (var (table, seqScans, seqRows, indexScans, indexRows) in p.TablesPerEvent)
                    sb.AppendLine(CultureInfo.InvariantCulture,
                        $"| {Label(p)} | {table} | {seqScans:0.00} | {seqRows:N0} | {indexScans:0.0} | {indexRows:N0} |");
            }
        }

        sb.AppendLine().AppendLine("## Targets (measured, not asserted)").AppendLine();
        sb.AppendLine("| Target | Measured | Result |").AppendLine("|---|--:|---|");
        foreach (var p in phases.Where(p => p.Name == "closed loop"))
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| ≥ {TargetAcceptedPerSecond:N0} accepted events/s (single events, {p.Clients} clients) | {p.AcceptedPerSecond:N0} /s | " +
                $"{Verdict(p.Error is null && p.Errors == 0 && p.AcceptedPerSecond >= TargetAcceptedPerSecond)} |");
        foreach (var p in phases.Where(p => p.Name == "batches"))
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| (diagnostic) ≥ {TargetAcceptedPerSecond:N0} accepted events/s in batches of {EventsBench.BatchSize}, {p.Clients} clients | " +
                $"{p.AcceptedPerSecond:N0} /s | {Verdict(p.Errors == 0 && p.AcceptedPerSecond >= TargetAcceptedPerSecond)} |");
        foreach (var p in phases.Where(p => p.TargetRate is not null))
        {
            var rate = p.TargetRate!.Value;
            var atRate = p.Error is null && p.Errors == 0 && p.AcceptedPerSecond >= RateTolerance * rate;
            var qualifier = atRate ? "" : string.Create(CultureInfo.InvariantCulture, $" (the rate was not held: {p.AcceptedPerSecond:N0}/s accepted)");
            var caughtUp = p.Drained ? "" : " (routing did not catch up: dispatch of the started ones only)";
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| accept p99 < {TargetAcceptP99Ms:N0} ms at {rate:N0} events/s (from the due time) | {p.Accept.P99Ms:0.0} ms{qualifier} | " +
                $"{Verdict(atRate && p.Accept.P99Ms < TargetAcceptP99Ms)} |");
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| dispatch p50 < {TargetDispatchP50Ms:N0} ms at {rate:N0} events/s | {p.Dispatch.P50Ms:N0} ms{qualifier}{caughtUp} | " +
                $"{Verdict(atRate && p.Drained && p.Dispatch.Count > 0 && p.Dispatch.P50Ms < TargetDispatchP50Ms)} |");
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| dispatch p99 < {TargetDispatchP99Ms:N0} ms at {rate:N0} events/s | {p.Dispatch.P99Ms:N0} ms{qualifier}{caughtUp} | " +
                $"{Verdict(atRate && p.Drained && p.Dispatch.Count > 0 && p.Dispatch.P99Ms < TargetDispatchP99Ms)} |");
        }

        return sb.ToString();
    }

    private static string Label(EventsPhase p) => p.TargetRate is { } rate
        ? string.Create(CultureInfo.InvariantCulture, $"{p.Name} at {rate:N0}/s")
        : string.Create(CultureInfo.InvariantCulture, $"{p.Name} @{p.Clients}");

    private static string Notes(EventsPhase p)
    {
        var notes = new List<string>();
        if (p.Error is not null) notes.Add($"⚠ {p.Error}");
        if (p.TargetRate is { } rate && p.AcceptedPerSecond < RateTolerance * rate)
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"⚠ could not keep up: {p.AcceptedPerSecond:N0} of {rate:N0} events/s"));
        if (p.Note.Length > 0) notes.Add(p.Note);
        if (p.ErrorKinds.Length > 0) notes.Add(p.ErrorKinds);
        if (p.LagAtEnd.Missing > 0) notes.Add($"⚠ {p.LagAtEnd.Missing:N0} accepted ids not in the store");
        if (p.HostErrorLines > 0) notes.Add($"host logged {p.HostErrorLines:N0} error lines, the last: {p.HostLastError}");
        if (p.WindowCpu.Other is > 20) notes.Add(string.Create(CultureInfo.InvariantCulture, $"⚠ other load on the machine: {p.WindowCpu.Other:N0} % of a core"));
        return string.Join("; ", notes);
    }

    private static string Verdict(bool pass) => pass ? "PASS" : "FAIL";

    private static string Ms(double value) => double.IsNaN(value) ? "–" : value.ToString("0.0", CultureInfo.InvariantCulture);

    private static string Seconds(double? value) => value is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) : "–";

    private static string Cpu(CpuShare cpu) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{cpu.Bench:N0} % | {cpu.Host:N0} % | {(cpu.Postgres is { } p ? $"{p:N0} %" : "–")} | {(cpu.Other is { } o ? $"{o:N0} %" : "–")}");

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
