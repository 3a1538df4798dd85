using System.Text.Json;
using Triggers.Modular.BuildingBlocks.Aggregates;

namespace Triggers.Modular.Triggers.Contracts;

// Integration events of trigger resources: stream trigger-{trg_id}. A trigger is linked to one workflow definition;
// Source is "api" (created through /api/v1/triggers) or "definition" (declared inside the definition and kept in step
// with it). Config is the type's configuration as validated (event: event_name, conditions, schema; webhook, schedule:
// their fields). Names are stable (see TriggerEventTypes); never rename them.

public sealed record TriggerCreated(string TriggerId, string TenantId, string Environment, string WorkflowId, string Name, string Type, bool Enabled,
    JsonElement Config, string Source, DateTimeOffset At) : IEvent;

public sealed record TriggerUpdated(string TriggerId, string TenantId, string Environment, string WorkflowId, string Name, bool Enabled,
    JsonElement Config, DateTimeOffset At) : IEvent;

public sealed record TriggerEnabled(string TriggerId, string TenantId, string Environment, DateTimeOffset At) : IEvent;

public sealed record TriggerDisabled(string TriggerId, string TenantId, string Environment, DateTimeOffset At) : IEvent;

public sealed record TriggerDeleted(string TriggerId, string TenantId, string Environment, DateTimeOffset At) : IEvent;

public static class TriggerEventTypes
{
    public const string Category = "trigger";
    public const string Created = "triggers.trigger_created";
    public const string Updated = "triggers.trigger_updated";
    public const string Enabled = "triggers.trigger_enabled";
    public const string Disabled = "triggers.trigger_disabled";
    public const string Deleted = "triggers.trigger_deleted";

    public static string StreamFor(string triggerId) => $"{Category}-{triggerId}";

    public static EventTypeRegistry Register(EventTypeRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry
            .Register<TriggerCreated>(Created)
            .Register<TriggerUpdated>(Updated)
            .Register<TriggerEnabled>(Enabled)
            .Register<TriggerDisabled>(Disabled)
            .Register<TriggerDeleted>(Deleted);
    }
}
