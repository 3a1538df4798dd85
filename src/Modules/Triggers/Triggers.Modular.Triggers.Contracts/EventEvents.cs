using System.Text.Json;
using Triggers.Modular.BuildingBlocks.Aggregates;

namespace Triggers.Modular.Triggers.Contracts;

// Integration events of accepted events: stream event-{event_id}, one per event sent to the events API (or emitted by an
// emit_event step). Names are stable (see EventEventTypes); never rename them.

/// <summary>
/// An event was accepted into a tenant × environment: durably stored before the sender got its 202.
/// <see cref="Source"/> is <c>api</c> (the events API) or <c>step</c> (an <c>emit_event</c> step); <see cref="Depth"/> is
/// the length of the causation chain that led to it (0 for an event sent from outside), which bounds emit loops.
/// </summary>
public sealed record EventAccepted(string EventId, string TenantId, string Environment, string Name, JsonElement Payload, string Source, int Depth,
    DateTimeOffset At) : IEvent;

public static class EventEventTypes
{
    public const string Category = "event";
    public const string Accepted = "triggers.event_accepted";

    public static string StreamFor(string eventId) => $"{Category}-{eventId}";

    public static EventTypeRegistry Register(EventTypeRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry.Register<EventAccepted>(Accepted);
    }
}
