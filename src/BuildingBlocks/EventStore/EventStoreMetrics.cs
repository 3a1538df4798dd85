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
}
