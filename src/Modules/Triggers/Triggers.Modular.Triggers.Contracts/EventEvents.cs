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
    public const string TriggerFired = "triggers.trigger_fired";
    public const string TriggerSkipped = "triggers.trigger_skipped";
    public const string Unrouted = "triggers.event_unrouted";

    public static string StreamFor(string eventId) => $"{Category}-{eventId}";

    public static EventTypeRegistry Register(EventTypeRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry
            .Register<EventAccepted>(Accepted)
            .Register<TriggerFired>(TriggerFired)
            .Register<TriggerSkipped>(TriggerSkipped)
            .Register<EventUnrouted>(Unrouted);
    }
}

// Routing decisions, appended by the dispatcher to the accepted event's own stream (right after EventAccepted, in one
// append): one TriggerFired per trigger that fires, one TriggerSkipped per matching-by-name trigger that does not, or one
// EventUnrouted when no enabled trigger listens to the name.

/// <summary>A trigger fired: the Executions module starts <see cref="ExecutionId"/> (derived from what fired — event and
/// trigger, webhook request — so the same firing never starts two executions) with <see cref="Payload"/> as its
/// <c>trigger</c> input. <see cref="TriggerType"/> is <c>event</c> (in an accepted event's stream; <see cref="EventId"/> and
/// <see cref="EventName"/> are the event's) or <c>webhook</c> (in the request's stream <c>webhook-{whr_id}</c>;
/// <see cref="EventId"/> is the request id, <see cref="EventName"/> <c>webhook</c>). <see cref="Context"/>, when present,
/// is the execution's <c>event</c> input (a webhook's method, path, query and headers); otherwise <c>{ id, name }</c>.</summary>
public sealed record TriggerFired(string EventId, string TenantId, string Environment, string EventName, string TriggerId, string WorkflowId,
    string ExecutionId, JsonElement Payload, DateTimeOffset AcceptedAt, DateTimeOffset At, string TriggerType = "event",
    JsonElement? Context = null) : IEvent;

/// <summary>An enabled trigger listening to the event's name did not fire: <see cref="Reason"/> is
/// <c>schema_failed</c>, <c>condition_false</c>, <c>definition_disabled</c> or <c>definition_missing</c>; <see cref="Details"/>
/// says why (schema errors with their paths, the condition leaf that failed).</summary>
public sealed record TriggerSkipped(string EventId, string TenantId, string Environment, string EventName, string TriggerId, string WorkflowId,
    string Reason, IReadOnlyList<string> Details, DateTimeOffset At) : IEvent;

/// <summary>No enabled trigger of the tenant × environment listens to the event's name.</summary>
public sealed record EventUnrouted(string EventId, string TenantId, string Environment, string EventName, DateTimeOffset At) : IEvent;
