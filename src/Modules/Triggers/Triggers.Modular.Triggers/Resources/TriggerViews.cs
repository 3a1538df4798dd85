using System.Text.Json;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.Triggers.Contracts;
using Triggers.Modular.Triggers.Domain;

namespace Triggers.Modular.Triggers.Resources;

/// <summary>A trigger as the API shows it. <see cref="Config"/> is the type's configuration as sent (SPEC §4);
/// <see cref="Source"/> is <c>api</c>, or <c>definition</c> for a trigger declared inside its workflow definition.
/// <see cref="WebhookUrl"/> is set for webhook triggers; <see cref="WebhookSecret"/> only in the answer that issued it (a
/// create, or an update that gave the trigger its first secret), never again — not even to a retry with the same
/// Idempotency-Key, which answers the trigger without it. <see cref="Schedule"/> (schedule triggers) holds its state, next and
/// last run and run count: exact on a single trigger's GET and on pause/resume (from its stream), as of the schedules read
/// model in lists.</summary>
internal sealed record TriggerDto(string Id, string WorkflowId, string Name, string Type, bool Enabled, JsonElement Config, string Source,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? WebhookUrl = null, string? WebhookSecret = null, ScheduleView? Schedule = null) : IShownOnce
{
    public object WithoutSecret() => this with { WebhookSecret = null };
}

internal static class TriggerViews
{
    public const string SourceApi = "api";
    public const string SourceDefinition = "definition";

    public static readonly string[] Types = ["event", "webhook", "schedule", "manual", "api"];

    public static TriggerDto ToDto(this TriggerState state, Webhooks.WebhookUrls urls, string? secret = null)
    {
        ArgumentNullException.ThrowIfNull(urls);
        return new(state.Id, state.WorkflowId, state.Name, state.Type, state.Enabled, state.Config, state.Source, state.CreatedAt, state.UpdatedAt,
            urls.For(state.Id, state.Type), secret);
    }

    /// <summary>The caller's trigger, folded from its stream; another scope's, a deleted or a malformed id → 404.</summary>
    public static async Task<TriggerState> LoadOwnedAsync(this CommandHandler handler, TenantScope scope, string id, CancellationToken cancellationToken)
    {
        if (!PrefixedId.IsValid("trg", id)) throw new NotFoundException("Trigger", id);
        var (state, _) = await handler.LoadAsync(TriggerDecider.Instance, TriggerEventTypes.StreamFor(id), cancellationToken).ConfigureAwait(false);
        if (!state.BelongsTo(scope.TenantId, scope.Environment) || state.Deleted) throw new NotFoundException("Trigger", id);
        return state;
    }

    /// <summary>A trigger declared inside a definition is kept in step with it: only enable and disable are the API's to change.</summary>
    public static void RefuseIfOwnedByDefinition(this TriggerState state, string change)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Source == SourceDefinition)
            throw new ConflictException(
                $"Trigger '{state.Id}' is declared in workflow definition '{state.WorkflowId}' and kept in step with it, so it cannot be {change} " +
                "here: edit the definition's trigger/triggers instead (enable and disable work on it).");
    }
}
