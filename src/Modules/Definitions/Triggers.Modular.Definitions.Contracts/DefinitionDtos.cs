using System.Text.Json;

namespace Triggers.Modular.Definitions.Contracts;

/// <summary>One version of a definition, whole: <see cref="Definition"/> is the document as the tenant wrote it.</summary>
public sealed record DefinitionDto(string Id, int Version, string Status, bool Enabled, string Name, string? Description,
    JsonElement Definition, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A definition in a list (latest version, without the document).</summary>
public sealed record DefinitionSummaryDto(string Id, int Version, string Status, bool Enabled, string Name, string? Description,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record DefinitionVersionDto(int Version, string Name, DateTimeOffset CreatedAt, string? Actor);

/// <summary>A field of a trigger document that breaks a rule (<see cref="IDefinitionsModule.ValidateTrigger"/>): its snake_case path
/// relative to the trigger, empty for the document itself, and what to change.</summary>
public sealed record TriggerFieldError(string Path, string Message);

/// <summary>Whether a definition exists and is enabled, and its latest version: what a trigger needs before it accepts a
/// request (see <see cref="IDefinitionsModule.GetStatusAsync"/>).</summary>
public sealed record DefinitionStatusDto(string Id, int Version, bool Enabled);
