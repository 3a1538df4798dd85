using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.Definitions.Common;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.Definitions.Domain;

namespace Triggers.Modular.Definitions.Definitions;

internal static class DefinitionViews
{
    public static string Status(bool enabled) => enabled ? "enabled" : "disabled";

    public static DefinitionDto ToDto(this DefinitionState state, int? version = null)
    {
        var v = version is { } n ? state.Versions.FirstOrDefault(x => x.Version == n) ?? throw new NotFoundException("Version", $"{state.Id}@{n}") : state.Latest;
        var description = v.Definition.TryGetProperty("description", out var d) && d.ValueKind == System.Text.Json.JsonValueKind.String ? d.GetString() : null;
        return new DefinitionDto(state.Id, v.Version, Status(state.Enabled), state.Enabled, v.Name, description, v.Definition, state.CreatedAt,
            version is null ? state.UpdatedAt : v.At);
    }

    /// <summary>The caller's definition, folded from its stream; another scope's or a deleted one → 404.</summary>
    public static async Task<DefinitionState> LoadOwnedAsync(this CommandHandler handler, TenantScope scope, string id, CancellationToken cancellationToken)
    {
        if (!BuildingBlocks.Ids.PrefixedId.IsValid("wf", id)) throw new NotFoundException("Workflow definition", id);
        var (state, _) = await handler.LoadAsync(DefinitionDecider.Instance, DefinitionStreams.For(id), cancellationToken);
        if (!state.BelongsTo(scope.TenantId, scope.Environment) || state.Deleted) throw new NotFoundException("Workflow definition", id);
        return state;
    }
}
