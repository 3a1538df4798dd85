using System.Globalization;
using System.Text;

namespace Triggers.Modular.Bench;

/// <summary>The markdown report of <c>--only http</c>: environment, one row per phase, ratios within the run.</summary>
internal static class HttpReport
{
    private static readonly (string Numerator, string Denominator, string Label)[] Ratios =
    [
        (HttpBench.Me, HttpBench.Live, "(b)/(a) authentication: /me ÷ /health/live"),
        (HttpBench.Create, HttpBench.Live, "(d)/(a) event-sourced command ÷ /health/live"),
        (HttpBench.CreateIdempotent, HttpBench.Create, "(e)/(d) with Idempotency-Key ÷ without"),
        (HttpBench.Replay, HttpBench.Live, "(f)/(a) idempotent replay ÷ /health/live"),
        (HttpBench.Create, HttpBench.CreateTenant, "(d)/(d0) diagnostic: command on the growing tenant stream ÷ on a new stream"),
        (HttpBench.DefinitionJson, HttpBench.Live, "(g)/(a) create a definition (JSON) ÷ /health/live"),
        (HttpBench.DefinitionYaml, HttpBench.DefinitionJson, "(h)/(g) YAML ÷ JSON"),
        (HttpBench.DefinitionChain, HttpBench.DefinitionJson, "(i)/(g) 200-step chain ÷ 2-step document"),
        (HttpBench.DefinitionGet, HttpBench.Live, "(j)/(a) read a definition ÷ /health/live"),
        (HttpBench.DefinitionRefused, HttpBench.Live, "(l)/(a) refused by validation ÷ /health/live"),
    ];

    public static string Render(Dictionary<string, string> environment, List<PhaseResult> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## Environment").AppendLine();
        foreach (var (key, value) in environment) sb.AppendLine(CultureInfo.InvariantCulture, $"- {key}: {value}");

        sb.AppendLine().AppendLine("## HTTP pipeline (platform)").AppendLine();
        sb.AppendLine("req/s counts successful responses in the measured window only; Errors are the other responses (wrong status, " +
                      "failed check, transport error) completed in it. CPU is per request, warm-up included.").AppendLine();
        sb.AppendLine("| Store | Scenario | Clients | Requests | Errors | req/s | p50 ms | p99 ms | CPU µs/req: bench + host (+ PostgreSQL) | Notes |");
        sb.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|--:|---|");
        foreach (var r in results)
        {
            if (r.Error is not null)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {r.Backend} | {r.Scenario} | {r.Writers} | – | – | – | – | – | – | FAILED: {r.Error} |");
                continue;
            }

            var latency = r.Ops > 0 ? $"{r.P50Ms:0.00} | {r.P99Ms:0.00}" : "– | –";
            var cpu = r.ClientCpuUsPerOp <= 0 ? "–" : $"{r.ClientCpuUsPerOp:N0} + {r.HostCpuUsPerOp ?? 0:N0}"
                                                     + (r.ServerCpuUsPerOp is { } server ? $" + {server:N0}" : "");
            var note = r.ForeignCpuShare is > 0.10 ? $"{r.Note}; ⚠ other load on the machine: {r.ForeignCpuShare:P0} of all CPU" : r.Note;
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Backend} | {r.Scenario} | {r.Writers} | {r.Ops:N0} | {r.Ops - r.Events:N0} | {r.EventsPerSecond:N0} | {latency} | {cpu} | {note} |");
        }

        sb.AppendLine().AppendLine("## Ratios (same run, req/s; p50 latency in brackets)").AppendLine();
        foreach (var backend in results.Select(r => r.Backend).Distinct())
        {
            foreach (var clients in results.Select(r => r.Writers).Distinct().Order())
            {
                foreach (var (numerator, denominator, label) in Ratios)
                {
                    var n = Find(results, backend, numerator, clients);
                    var d = Find(results, backend, denominator, clients);
                    if (n is null || d is null || d.EventsPerSecond <= 0 || d.P50Ms <= 0) continue;
                    var errors = n.Ops > n.Events || d.Ops > d.Events ? " ⚠ a phase had errors" : "";
                    sb.AppendLine(CultureInfo.InvariantCulture,
                        $"- {backend} @{clients} {label}: {n.EventsPerSecond:N0} / {d.EventsPerSecond:N0} req/s = **{n.EventsPerSecond / d.EventsPerSecond:0.00}** " +
                        $"(p50 {n.P50Ms:0.00} / {d.P50Ms:0.00} ms = {n.P50Ms / d.P50Ms:0.0}×){errors}");
                }
            }
        }

        sb.AppendLine().AppendLine("SPEC §8 (context only, not measurable yet: the events API does not exist): events API ≥ 5,000 accepted " +
                                   "events/s; p99 < 25 ms at 1,000 events/s.");
        return sb.ToString();
    }

    private static PhaseResult? Find(List<PhaseResult> results, string backend, string scenario, int clients) =>
        results.FirstOrDefault(r => r.Backend == backend && r.Scenario == scenario && r.Writers == clients && r.Error is null);
}
