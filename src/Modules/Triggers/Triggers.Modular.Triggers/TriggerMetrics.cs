using System.Diagnostics.Metrics;

namespace Triggers.Modular.Triggers;

/// <summary>Meter <c>Triggers.Modular.Triggers</c>.</summary>
internal static class TriggerMetrics
{
    public static readonly Meter Meter = new("Triggers.Modular.Triggers");

    public static readonly Counter<long> EventsReceived = Meter.CreateCounter<long>("events_received",
        description: "Events sent to the events API, by outcome (accepted; rejected: a batch item that failed validation).");
}
