using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Projections;

namespace Triggers.Modular.Host.Cli;

/// <summary>
/// Operator verb <c>audit verify</c>: verifies the tamper-evidence hash chains (docs/adr/0016) of the whole store, or of one
/// tenant × environment, over a range of positions. Exit codes: 0 intact, 1 a problem found (the first is printed), 2 usage.
/// </summary>
public static class AuditCli
{
    public const string Usage = """
        Usage:
          audit verify [--tenant TENANT --environment ENV] [--from POSITION] [--to POSITION]
          projections list
          projections rebuild NAME [--mode switch|compare]
        Verifies each stream's hash chain: events in order, none missing, each hashing to its stored link; from is exclusive,
        to inclusive (positions as the audit API shows them); without --to, each stream's recorded end is checked too.
        projections rebuild replays $all into new tables beside the live ones (the API keeps serving) and then replaces them
        (switch, the default) or compares them with them row for row (compare); progress is printed every second. Exit codes:
        0 done (compare: identical), 1 failed or different, 2 usage or refused.
        Host settings may follow as --Section:Key=value (e.g. --EventStore:Provider=postgres).
        """;

    private static readonly HashSet<string> Options = ["tenant", "environment", "from", "to"];

    public static bool IsCommand(string[] args) => args is { Length: > 0 } && args[0] is "audit" or "projections";

    public static async Task<int> RunAsync(IServiceProvider services, string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        if (args is ["projections", "list"]) return await ListProjectionsAsync(services, output);
        if (args is ["projections", "rebuild", ..]) return await RebuildAsync(services, args[2..], output);
        var parsed = args.Length >= 2 && args[0] == "audit" && args[1] == "verify" ? CliArguments.Parse(args[2..], Options) : null;
        GlobalPosition from = default, to = default;
        if (parsed is null || parsed.Positional.Count != 0
            || (parsed.Option("tenant") is null) != (parsed.Option("environment") is null)
            || (parsed.Option("from") is { } f && !GlobalPosition.TryParse(f, out from))
            || (parsed.Option("to") is { } t && !GlobalPosition.TryParse(t, out to)))
        {
            await output.WriteLineAsync(Usage);
            return 2;
        }

        var report = await services.GetRequiredService<ChainVerifier>().VerifyAsync(parsed.Option("tenant"), parsed.Option("environment"),
            parsed.Option("from") is null ? null : from, parsed.Option("to") is null ? null : to);
        var summary = string.Create(CultureInfo.InvariantCulture, $"{(report.Ok ? "OK" : "BROKEN")}: {report.Checked} events in {report.Streams} streams checked");
        if (report.UnhashedLegacy > 0)
            summary += string.Create(CultureInfo.InvariantCulture, $", {report.UnhashedLegacy} recorded before the chain (not covered)");
        if (report.LastPosition is not null) summary += $", last position {report.LastPosition}";
        await output.WriteLineAsync(summary);
        if (report.FirstProblem is { } p)
            await output.WriteLineAsync($"first problem: {p.Kind} — stream {p.Stream}, revision {p.Revision}" +
                                        (p.Position is null ? "" : $", position {p.Position}") + (p.EventId is null ? "" : $", event {p.EventId}") +
                                        $": {p.Detail}");
        return report.Ok ? 0 : 1;
    }

    /// <summary>Rebuilds one projection in this process (the verb runs no projection runner; a running host's runner goes on
    /// meanwhile and, after a switch, continues into the new tables), printing its progress every second.</summary>
    private static async Task<int> RebuildAsync(IServiceProvider services, string[] args, TextWriter output)
    {
        var parsed = CliArguments.Parse(args, RebuildVerbOptions);
        var mode = parsed?.Option("mode") switch
        {
            null or "switch" => RebuildMode.Switch,
            "compare" => RebuildMode.Compare,
            _ => (RebuildMode?)null,
        };
        if (parsed is not { Positional.Count: 1 } || mode is null)
        {
            await output.WriteLineAsync(Usage);
            return 2;
        }

        ProjectionRebuild job;
        try
        {
            job = services.GetRequiredService<ProjectionHost>().StartRebuild(parsed.Positional[0], mode.Value);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or RebuildRefusedException)
        {
            await output.WriteLineAsync(ex.Message);
            return 2;
        }

        while (!job.Completion.IsCompleted)
        {
            await Task.WhenAny(job.Completion, Task.Delay(TimeSpan.FromSeconds(1)));
            await output.WriteLineAsync(Describe(job.Progress));
        }

        var done = job.Progress;
        foreach (var c in done.Comparison ?? [])
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{c.Table}: {(c.Identical ? "identical" : "DIFFERENT")} — live {c.LiveRows} rows, rebuilt {c.RebuiltRows}, only live {c.OnlyLive}, only rebuilt {c.OnlyRebuilt}"));
        return done.State == RebuildState.Completed && done.Identical != false ? 0 : 1;
    }

    private static readonly HashSet<string> RebuildVerbOptions = ["mode"];

    private static string Describe(RebuildProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"{p.Projection} ({p.Mode.ToString().ToLowerInvariant()}): {p.State.ToString().ToLowerInvariant()} {p.Percent:0.0}% — {p.Applied:N0} of {p.Total:N0} events, " +
        $"{p.EventsPerSecond:N0} events/s, position {p.Position}") + (p.Error is null ? "" : $" — {p.Error}");

    /// <summary>The stored checkpoint, head and lag of every projection and processor (the runners do not run in a verb).</summary>
    private static async Task<int> ListProjectionsAsync(IServiceProvider services, TextWriter output)
    {
        var statuses = await services.GetRequiredService<ProjectionHost>().GetStatusAsync();
        await output.WriteLineAsync($"{"name",-28} {"kind",-10} {"checkpoint",-22} {"head",-22} lag");
        foreach (var p in statuses)
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{p.Name,-28} {p.Kind,-10} {p.Checkpoint,-22} {p.Head,-22} {p.Lag}"));
        return 0;
    }
}
