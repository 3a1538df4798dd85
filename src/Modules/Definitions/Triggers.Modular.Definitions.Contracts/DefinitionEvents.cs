using System.Text.Json;
using Triggers.Modular.BuildingBlocks.Aggregates;

namespace Triggers.Modular.Definitions.Contracts;

// Integration events of the Definitions module: the events of stream definition-{id}, which other modules consume
// through checkpointed subscriptions. Names are stable (see DefinitionEventTypes); never rename them.

/// <summary>A definition was created as version 1; <see cref="Definition"/> is the whole document as validated.</summary>
public sealed record DefinitionCreated(string DefinitionId, string TenantId, string Environment, int Version, string Name, bool Enabled,
    JsonElement Definition, DateTimeOffset CreatedAt) : IEvent;

/// <summary>An update: a new version with its whole document. Earlier versions stay readable.</summary>
public sealed record DefinitionUpdated(string DefinitionId, string TenantId, string Environment, int Version, string Name, bool Enabled,
    JsonElement Definition, DateTimeOffset UpdatedAt) : IEvent;

public sealed record DefinitionEnabled(string DefinitionId, string TenantId, string Environment, int Version, DateTimeOffset At) : IEvent;

public sealed record DefinitionDisabled(string DefinitionId, string TenantId, string Environment, int Version, DateTimeOffset At) : IEvent;

public sealed record DefinitionDeleted(string DefinitionId, string TenantId, string Environment, int Version, DateTimeOffset At) : IEvent;

public static class DefinitionEventTypes
{
    public const string Category = "definition";
    public const string Created = "definitions.definition_created";
    public const string Updated = "definitions.definition_updated";
    public const string Enabled = "definitions.definition_enabled";
    public const string Disabled = "definitions.definition_disabled";
    public const string Deleted = "definitions.definition_deleted";

    public static EventTypeRegistry Register(EventTypeRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry
            .Register<DefinitionCreated>(Created)
            .Register<DefinitionUpdated>(Updated)
            .Register<DefinitionEnabled>(Enabled)
            .Register<DefinitionDisabled>(Disabled)
            .Register<DefinitionDeleted>(Deleted);
    }
}
