using System.Collections.Immutable;
using System.Text.Json;

namespace Triggers.Modular.Definitions.Domain;

internal sealed record DefinitionVersion(int Version, string Name, JsonElement Definition, DateTimeOffset At, string? Actor);

/// <summary>A definition folded from its stream: every version is kept, the latest last.</summary>
internal sealed record DefinitionState(
    bool Exists,
    bool Deleted,
    string Id,
    string TenantId,
    string Environment,
    bool Enabled,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    ImmutableList<DefinitionVersion> Versions)
{
    public static DefinitionState Initial { get; } = new(false, false, "", "", "", false, default, default, []);

    public int Version => Versions.Count == 0 ? 0 : Versions[^1].Version;

    public DefinitionVersion Latest => Versions[^1];

    public bool BelongsTo(string tenantId, string environment) =>
        Exists && string.Equals(TenantId, tenantId, StringComparison.Ordinal) && string.Equals(Environment, environment, StringComparison.Ordinal);
}
