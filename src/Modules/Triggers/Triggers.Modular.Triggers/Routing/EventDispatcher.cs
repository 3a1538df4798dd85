using System.Diagnostics;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Logging;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.Executions.Contracts.Conditions;
using Triggers.Modular.Triggers.Contracts;
using Triggers.Modular.Triggers.ReadModel;

namespace Triggers.Modular.Triggers.Routing;

/// <summary>One enabled event trigger as routing needs it.</summary>
internal sealed record RoutableTrigger(string TriggerId, string WorkflowId, JsonElement Config);

/// <summary>
/// Routes accepted events: for each, every enabled <c>event</c> trigger of the same tenant × environment listening to
/// its name is checked — definition present and enabled, payload against the trigger's <c>schema</c>, its
/// <c>conditions</c> against <c>{ "name", "payload" }</c> — and the decisions (<see cref="TriggerFired"/>,
/// <see cref="TriggerSkipped"/>, or <see cref="EventUnrouted"/>) are appended to the event's own stream at revision 0, in
/// one append. An event already routed (a redelivery after a crash, another instance) conflicts there and is passed by:
/// each event is routed once, and the execution id of a firing derives from the event and the trigger.
/// </summary>
internal sealed partial class EventDispatcher(IEventStore store, EventSerializer serializer, IStoreDatabase database, IDefinitionsModule definitions,
    TimeProvider clock, ILogger<EventDispatcher> logger) : IEventProcessor
{
    public string Name => "triggers-dispatcher";

    public AllFilter? Filter { get; } = new(Categories: [EventEventTypes.Category], EventTypePrefixes: [EventEventTypes.Accepted]);

    /// <summary>The execution a trigger starts for an event: the same pair always gives the same id.</summary>
    public static string ExecutionIdFor(string eventId, string triggerId) => PrefixedId.From("exec", DeterministicId.Create($"{eventId}/{triggerId}/execution"));

    public async Task HandleAsync(IReadOnlyList<RecordedEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (var e in events)
        {
            if (serializer.Deserialize(e) is not EventAccepted accepted) continue;
            var decisions = await RouteAsync(accepted, cancellationToken).ConfigureAwait(false);
            var data = decisions.Select((d, i) => serializer.Serialize(d, DeterministicId.Create($"{accepted.EventId}/routing", i), e.Metadata with
            {
                Actor = "dispatcher",
                CausationId = accepted.EventId,
            })).ToList();
            try
            {
                await store.AppendToStreamAsync(e.StreamName, ExpectedRevision.Exactly(e.Revision), data, cancellationToken).ConfigureAwait(false);
            }
            catch (WrongExpectedRevisionException)
            {
                continue; // routed before: by an earlier delivery of this page, or by another instance
            }

            Count(decisions);
        }
    }

    /// <summary>The decisions for one event, without recording them (the dry run shows these).</summary>
    public async Task<IReadOnlyList<IEvent>> RouteAsync(EventAccepted accepted, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        var now = clock.Now();
        var triggers = await ListenersAsync(accepted.TenantId, accepted.Environment, accepted.Name, cancellationToken).ConfigureAwait(false);
        if (triggers.Count == 0) return [new EventUnrouted(accepted.EventId, accepted.TenantId, accepted.Environment, accepted.Name, now)];

        var subject = JsonSerializer.SerializeToElement(new { name = accepted.Name, payload = accepted.Payload });
        var decisions = new List<IEvent>(triggers.Count);
        foreach (var trigger in triggers)
        {
            var (reason, details) = await CheckAsync(accepted, trigger, subject, cancellationToken).ConfigureAwait(false);
            decisions.Add(reason is null
                ? new TriggerFired(accepted.EventId, accepted.TenantId, accepted.Environment, accepted.Name, trigger.TriggerId, trigger.WorkflowId,
                    ExecutionIdFor(accepted.EventId, trigger.TriggerId), accepted.Payload, accepted.At, now)
                : new TriggerSkipped(accepted.EventId, accepted.TenantId, accepted.Environment, accepted.Name, trigger.TriggerId, trigger.WorkflowId,
                    reason, details, now));
        }

        return decisions;
    }

    private async Task<(string? Reason, IReadOnlyList<string> Details)> CheckAsync(EventAccepted accepted, RoutableTrigger trigger, JsonElement subject,
        CancellationToken cancellationToken)
    {
        var definition = await definitions.GetAsync(accepted.TenantId, accepted.Environment, trigger.WorkflowId, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        if (definition is null) return ("definition_missing", [$"workflow definition '{trigger.WorkflowId}' does not exist (deleted?)"]);
        if (!definition.Enabled) return ("definition_disabled", [$"workflow definition '{trigger.WorkflowId}' is disabled"]);

        if (trigger.Config.TryGetProperty("schema", out var schema) && schema.ValueKind != JsonValueKind.Null)
        {
            IReadOnlyList<string> errors;
            try
            {
                errors = await PayloadSchemas.ValidateAsync(schema, accepted.Payload, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
            {
                errors = [$"the trigger's schema cannot be used: {ex.Message}"];
            }

            if (errors.Count > 0) return ("schema_failed", errors);
        }

        if (trigger.Config.TryGetProperty("conditions", out var conditions) && conditions.ValueKind == JsonValueKind.Array)
        {
            var result = ConditionEvaluator.ExplainAll(conditions, subject);
            if (!result.Holds) return ("condition_false", [result.Reason ?? "the conditions do not hold"]);
        }

        return (null, []);
    }

    private async Task<IReadOnlyList<RoutableTrigger>> ListenersAsync(string tenantId, string environment, string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(string TriggerId, string WorkflowId, string Config)>(new CommandDefinition(
            $"SELECT trigger_id, workflow_id, config FROM {TriggersProjection.Table(database.Dialect)} WHERE tenant_id = @tenantId AND environment = @environment " +
            "AND event_name = @name AND type = 'event' AND enabled = @enabled ORDER BY trigger_id",
            new { tenantId, environment, name, enabled = true }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. rows.Select(r => new RoutableTrigger(r.TriggerId, r.WorkflowId, JsonDocument.Parse(r.Config).RootElement.Clone()))];
    }

    private void Count(IReadOnlyList<IEvent> decisions)
    {
        foreach (var d in decisions)
        {
            switch (d)
            {
                case TriggerFired f:
                    TriggerMetrics.EventsRouted.Add(1);
                    LogFired(f.EventId, f.TriggerId, f.ExecutionId);
                    break;
                case TriggerSkipped s:
                    TriggerMetrics.TriggersSkipped.Add(1, new KeyValuePair<string, object?>("reason", s.Reason));
                    break;
                case EventUnrouted u:
                    TriggerMetrics.EventsUnrouted.Add(1);
                    LogUnrouted(u.EventId, u.EventName, u.TenantId, u.Environment);
                    break;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Event {EventId}: trigger {TriggerId} fired execution {ExecutionId}")]
    private partial void LogFired(string eventId, string triggerId, string executionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} ({EventName}) in {TenantId}/{Environment}: no enabled trigger listens to it (unrouted)")]
    private partial void LogUnrouted(string eventId, string eventName, string tenantId, string environment);
}
