using System.Diagnostics.Metrics;

namespace Triggers.Modular.BuildingBlocks.EventStore;

/// <summary>Event-store instruments (meter <c>Triggers.Modular.EventStore</c>), for OpenTelemetry or dotnet-counters.</summary>
public static class EventStoreMetrics
{
    public static readonly Meter Meter = new("Triggers.Modular.EventStore");

    /// <summary>
    /// Reads of <c>$all</c> that found committed events held back behind an older open transaction (PostgreSQL):
    /// a long open transaction stalls readers (never makes them skip); this counter shows the stall.
    /// </summary>
    public static readonly Counter<long> HeldBackReads = Meter.CreateCounter<long>(
        "triggers.event_store.all_reads_held_back", description: "$all reads that waited behind an older open transaction");

    /// <summary>Appends per group commit (PostgreSQL; commits of one append alone are not recorded).</summary>
    public static readonly Histogram<int> GroupCommits = Meter.CreateHistogram<int>(
        "triggers.event_store.group_commit_appends", unit: "{append}", description: "Appends committed together in one transaction",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [2, 4, 8, 16, 32, 64, 128, 256] });

    /// <summary>Group commits that failed as a whole and retried each append alone.</summary>
    public static readonly Counter<long> GroupCommitFallbacks = Meter.CreateCounter<long>(
        "triggers.event_store.group_commit_fallbacks", description: "Group commits retried append by append");
}
