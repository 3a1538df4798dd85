using System.Text.Json;
using System.Text.Json.Nodes;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.Triggers.Contracts;
using Triggers.Modular.Triggers.Domain;

namespace Triggers.Modular.Triggers.Sync;

/// <summary>
/// Keeps the triggers declared inside definitions (<c>trigger</c>, then <c>triggers[…]</c>) as trigger resources
/// (<c>source: definition</c>): created with the definition, updated with each new version, deleted when the definition
/// drops them or is deleted. A declared trigger's id derives from the definition, its position and its type, so a
/// redelivery finds the triggers it made. Enabling or disabling the definition changes nothing here: routing checks the
/// definition itself.
/// </summary>
internal sealed class DefinitionTriggerSync(CommandHandler handler, EventSerializer serializer, IDefinitionsModule definitions, TimeProvider clock,
    Webhooks.WebhookTriggerCache cache, Webhooks.WebhookSecrets secrets)
    : IEventProcessor
{
    public string Name => "triggers-definition-sync";

    public AllFilter? Filter { get; } = new(Categories: [DefinitionEventTypes.Category],
        EventTypePrefixes: [DefinitionEventTypes.Created, DefinitionEventTypes.Updated, DefinitionEventTypes.Deleted]);

    public static string TriggerIdFor(string workflowId, int position, string type) =>
        PrefixedId.From("trg", DeterministicId.Create($"{workflowId}/declared-trigger/{position}/{type}"));

    public async Task HandleAsync(IReadOnlyList<RecordedEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (var e in events)
        {
            switch (serializer.Deserialize(e))
            {
                case DefinitionCreated c:
                    await SyncAsync(c.DefinitionId, c.TenantId, c.Environment, c.Name, Declared(c.DefinitionId, c.Definition), [], e.Metadata, cancellationToken)
                        .ConfigureAwait(false);
                    break;
                case DefinitionUpdated u:
                    var before = await definitions.GetVersionAsync(u.TenantId, u.Environment, u.DefinitionId, u.Version - 1, cancellationToken).ConfigureAwait(false);
                    await SyncAsync(u.DefinitionId, u.TenantId, u.Environment, u.Name, Declared(u.DefinitionId, u.Definition),
                        before is null ? [] : Declared(u.DefinitionId, before.Definition), e.Metadata, cancellationToken).ConfigureAwait(false);
                    break;
                case DefinitionDeleted d:
                    var last = await definitions.GetVersionAsync(d.TenantId, d.Environment, d.DefinitionId, d.Version, cancellationToken).ConfigureAwait(false);
                    await SyncAsync(d.DefinitionId, d.TenantId, d.Environment, "", [], last is null ? [] : Declared(d.DefinitionId, last.Definition),
                        e.Metadata, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
    }

    private async Task SyncAsync(string workflowId, string tenantId, string environment, string definitionName, IReadOnlyList<DeclaredTrigger> now,
        IReadOnlyList<DeclaredTrigger> before, EventMetadata cause, CancellationToken cancellationToken)
    {
        var metadata = cause with { Actor = "definition-sync" };
        foreach (var gone in before.Where(b => now.All(n => n.Id != b.Id)))
        {
            var (state, _) = await handler.LoadAsync(TriggerDecider.Instance, TriggerEventTypes.StreamFor(gone.Id), cancellationToken).ConfigureAwait(false);
            if (!state.Exists || state.Deleted) continue;
            await handler.HandleAsync(TriggerDecider.Instance, TriggerEventTypes.StreamFor(gone.Id),
                new TriggerCommand.Delete(gone.Id, tenantId, environment, clock.Now()), metadata, cancellationToken: cancellationToken).ConfigureAwait(false);
            await secrets.DeleteAsync(gone.Id, cancellationToken).ConfigureAwait(false);
            cache.Invalidate(gone.Id);
        }

        foreach (var declared in now)
        {
            var stream = TriggerEventTypes.StreamFor(declared.Id);
            var (state, _) = await handler.LoadAsync(TriggerDecider.Instance, stream, cancellationToken).ConfigureAwait(false);
            if (state.Deleted) continue;
            var name = declared.NameUnder(definitionName);
            TriggerCommand command = state.Exists
                ? new TriggerCommand.Update(declared.Id, tenantId, environment, workflowId, name, null, declared.Config, clock.Now())
                : new TriggerCommand.Create(declared.Id, tenantId, environment, workflowId, name, declared.Type, Enabled: true, declared.Config, "definition",
                    clock.Now());
            await handler.HandleAsync(TriggerDecider.Instance, stream, command, metadata, cancellationToken: cancellationToken).ConfigureAwait(false);
            // A declared webhook whose auth type or scheme changed loses its secret (no one could have seen a new one here):
            // its requests fail no_secret until a rotation issues one, as for a new declared webhook.
            if (state.Exists && declared.Type == "webhook")
            {
                var (was, becomes) = (Webhooks.WebhookConfig.From(state.Config), Webhooks.WebhookConfig.From(declared.Config));
                if (was.AuthType != becomes.AuthType || was.HmacScheme != becomes.HmacScheme)
                    await secrets.DeleteAsync(declared.Id, cancellationToken).ConfigureAwait(false);
            }

            cache.Invalidate(declared.Id);
        }
    }

    /// <summary>The definition's <c>trigger</c> and <c>triggers</c>, in that order, each as its type and its config (the
    /// declaration without <c>type</c>).</summary>
    internal static IReadOnlyList<DeclaredTrigger> Declared(string workflowId, JsonElement definition)
    {
        var list = new List<JsonElement>();
        if (definition.ValueKind != JsonValueKind.Object) return [];
        if (definition.TryGetProperty("trigger", out var single) && single.ValueKind == JsonValueKind.Object) list.Add(single);
        if (definition.TryGetProperty("triggers", out var many) && many.ValueKind == JsonValueKind.Array)
            list.AddRange(many.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.Object));
        return [.. list.Select((t, i) =>
        {
            var type = t.TryGetProperty("type", out var ty) && ty.ValueKind == JsonValueKind.String ? ty.GetString()! : "event";
            var config = JsonNode.Parse(t.GetRawText())!.AsObject();
            config.Remove("type");
            return new DeclaredTrigger(TriggerIdFor(workflowId, i, type), i, type, JsonSerializer.SerializeToElement(config));
        })];
    }

    internal sealed record DeclaredTrigger(string Id, int Position, string Type, JsonElement Config)
    {
        public string NameUnder(string definitionName) =>
            Config.TryGetProperty("event_name", out var name) && name.ValueKind == JsonValueKind.String
                ? $"{definitionName}: {Type} {name.GetString()}"
                : $"{definitionName}: {Type} #{Position + 1}";
    }
}
