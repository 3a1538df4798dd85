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

/// <summary>One event trigger listening to a name, as routing needs it.</summary>
internal sealed record RoutableTrigger(string TriggerId, string WorkflowId, string Name, bool Enabled, JsonElement Config);

/// <summary>What routing decides, or would decide, for one trigger: it fires when <see cref="Reason"/> is null, otherwise it
/// is skipped for that reason (one of <see cref="SkipReasons"/>) with <see cref="Details"/> saying why.</summary>
internal sealed record TriggerVerdict(string TriggerId, string WorkflowId, string TriggerName, string? Reason, IReadOnlyList<string> Details)
{
    public bool Fires => Reason is null;
}

/// <summary>Why a trigger does not fire. The first four are recorded by routing (<see cref="TriggerSkipped.Reason"/>); the
/// last two only the dry run reports: real routing never looks at disabled triggers or at other names.</summary>
internal static class SkipReasons
{
    public const string DefinitionMissing = "definition_missing";
    public const string DefinitionDisabled = "definition_disabled";
    public const string SchemaFailed = "schema_failed";
    public const string ConditionFalse = "condition_false";
    public const string TriggerDisabled = "trigger_disabled";
    public const string NameMismatch = "name_mismatch";
}

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

    /// <summary>Events of one page routed at a time. Their appends go to the store together (one group commit on PostgreSQL).</summary>
    private const int Parallelism = 64;

    public async Task HandleAsync(IReadOnlyList<RecordedEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        // One page shares its reads: the listeners of a name and each definition are read once for all its events.
        var page = new PageReads();
        await Parallel.ForEachAsync(events, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (e, ct) =>
            {
                if (serializer.Deserialize(e) is not EventAccepted accepted) return;
                var decisions = await RouteAsync(accepted, page, ct).ConfigureAwait(false);
                var data = decisions.Select((d, i) => serializer.Serialize(d, DeterministicId.Create($"{accepted.EventId}/routing", i), e.Metadata with
                {
                    Actor = "dispatcher",
                    CausationId = accepted.EventId,
                })).ToList();
                try
                {
                    await store.AppendToStreamAsync(e.StreamName, ExpectedRevision.Exactly(e.Revision), data, ct).ConfigureAwait(false);
                }
                catch (WrongExpectedRevisionException)
                {
                    return; // routed before: by an earlier delivery of this page, or by another instance
                }

                Count(decisions);
            }).ConfigureAwait(false);
    }

    /// <summary>Reads shared by the events of one page (routing decides from what the read model and the definitions say when
    /// the page is routed; one page is routed in well under a second).</summary>
    private sealed class PageReads
    {
        public System.Collections.Concurrent.ConcurrentDictionary<(string, string, string), Task<IReadOnlyList<RoutableTrigger>>> Listeners { get; } = new();

        public System.Collections.Concurrent.ConcurrentDictionary<(string, string, string), Task<DefinitionDto?>> Definitions { get; } = new();
    }

    /// <summary>The decisions for one event, without recording them.</summary>
    public Task<IReadOnlyList<IEvent>> RouteAsync(EventAccepted accepted, CancellationToken cancellationToken) =>
        RouteAsync(accepted, null, cancellationToken);

    private async Task<IReadOnlyList<IEvent>> RouteAsync(EventAccepted accepted, PageReads? page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        var now = clock.Now();
        var verdicts = await EvaluateAsync(accepted.TenantId, accepted.Environment, accepted.Name, accepted.Payload, includeDisabled: false, page,
            cancellationToken).ConfigureAwait(false);
        if (verdicts.Count == 0) return [new EventUnrouted(accepted.EventId, accepted.TenantId, accepted.Environment, accepted.Name, now)];

        return [.. verdicts.Select(v => v.Fires
            ? (IEvent)new TriggerFired(accepted.EventId, accepted.TenantId, accepted.Environment, accepted.Name, v.TriggerId, v.WorkflowId,
                ExecutionIdFor(accepted.EventId, v.TriggerId), accepted.Payload, accepted.At, now)
            : new TriggerSkipped(accepted.EventId, accepted.TenantId, accepted.Environment, accepted.Name, v.TriggerId, v.WorkflowId,
                v.Reason!, v.Details, now))];
    }

    /// <summary>
    /// The dry run of an event nobody sent: the verdict of routing for every enabled event trigger of the tenant ×
    /// environment listening to <paramref name="name"/> (exactly as <see cref="RouteAsync"/> decides), plus — reported here
    /// only — the disabled ones listening to it (<see cref="SkipReasons.TriggerDisabled"/>) and the enabled ones listening to
    /// a name a typo away (<see cref="SkipReasons.NameMismatch"/>). <c>Unrouted</c>: no enabled trigger listens to the name,
    /// so a real send would be recorded as unrouted. Reads only; records nothing.
    /// </summary>
    public async Task<(IReadOnlyList<TriggerVerdict> Verdicts, bool Unrouted)> DryRunAsync(string tenantId, string environment, string name,
        JsonElement payload, CancellationToken cancellationToken)
    {
        var listening = await EvaluateAsync(tenantId, environment, name, payload, includeDisabled: true, null, cancellationToken).ConfigureAwait(false);
        var near = await NearNamesAsync(tenantId, environment, name, cancellationToken).ConfigureAwait(false);
        return ([.. listening, .. near], listening.All(v => v.Reason == SkipReasons.TriggerDisabled));
    }

    /// <summary>The verdicts for the event triggers of a tenant × environment listening to <paramref name="name"/>, by trigger
    /// id: the enabled ones (what routing records), and with <paramref name="includeDisabled"/> the disabled ones too (the
    /// dry run). Empty when none listens.</summary>
    private async Task<IReadOnlyList<TriggerVerdict>> EvaluateAsync(string tenantId, string environment, string name, JsonElement payload,
        bool includeDisabled, PageReads? page, CancellationToken cancellationToken)
    {
        var triggers = await (page is null
            ? ListenersAsync(tenantId, environment, name, includeDisabled, cancellationToken)
            : page.Listeners.GetOrAdd((tenantId, environment, name), key => ListenersAsync(key.Item1, key.Item2, key.Item3, includeDisabled, cancellationToken)))
            .ConfigureAwait(false);
        if (triggers.Count == 0) return [];

        var subject = JsonSerializer.SerializeToElement(new { name, payload });
        var verdicts = new List<TriggerVerdict>(triggers.Count);
        foreach (var trigger in triggers)
        {
            var (reason, details) = trigger.Enabled
                ? await CheckAsync(tenantId, environment, payload, trigger, subject, page, cancellationToken).ConfigureAwait(false)
                : (SkipReasons.TriggerDisabled, [$"trigger '{trigger.TriggerId}' is disabled: POST /api/v1/triggers/{trigger.TriggerId}/enable turns it on"]);
            verdicts.Add(new TriggerVerdict(trigger.TriggerId, trigger.WorkflowId, trigger.Name, reason, details));
        }

        return verdicts;
    }

    private async Task<(string? Reason, IReadOnlyList<string> Details)> CheckAsync(string tenantId, string environment, JsonElement payload,
        RoutableTrigger trigger, JsonElement subject, PageReads? page, CancellationToken cancellationToken)
    {
        var definition = await (page is null
            ? definitions.GetAsync(tenantId, environment, trigger.WorkflowId, cancellationToken: cancellationToken)
            : page.Definitions.GetOrAdd((tenantId, environment, trigger.WorkflowId),
                key => definitions.GetAsync(key.Item1, key.Item2, key.Item3, cancellationToken: cancellationToken))).ConfigureAwait(false);
        if (definition is null) return (SkipReasons.DefinitionMissing, [$"workflow definition '{trigger.WorkflowId}' does not exist (deleted?)"]);
        if (!definition.Enabled) return (SkipReasons.DefinitionDisabled, [$"workflow definition '{trigger.WorkflowId}' is disabled"]);

        if (trigger.Config.TryGetProperty("schema", out var schema) && schema.ValueKind != JsonValueKind.Null)
        {
            IReadOnlyList<string> errors;
            try
            {
                errors = await PayloadSchemas.ValidateAsync(schema, payload, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
            {
                errors = [$"the trigger's schema cannot be used: {ex.Message}"];
            }

            if (errors.Count > 0) return (SkipReasons.SchemaFailed, errors);
        }

        if (trigger.Config.TryGetProperty("conditions", out var conditions) && conditions.ValueKind == JsonValueKind.Array)
        {
            var result = ConditionEvaluator.ExplainAll(conditions, subject);
            if (!result.Holds) return (SkipReasons.ConditionFalse, [result.Reason ?? "the conditions do not hold"]);
        }

        return (null, []);
    }

    private async Task<IReadOnlyList<RoutableTrigger>> ListenersAsync(string tenantId, string environment, string name, bool includeDisabled,
        CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(string TriggerId, string WorkflowId, string Name, object Enabled, string Config)>(new CommandDefinition(
            $"SELECT trigger_id, workflow_id, name, enabled, config FROM {TriggersProjection.Table(database.Dialect)} " +
            "WHERE tenant_id = @tenantId AND environment = @environment AND event_name = @name AND type = 'event'" +
            (includeDisabled ? "" : " AND enabled = @enabled") + " ORDER BY trigger_id",
            new { tenantId, environment, name, enabled = true }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. rows.Select(r => new RoutableTrigger(r.TriggerId, r.WorkflowId, r.Name, IsTrue(r.Enabled),
            JsonDocument.Parse(r.Config).RootElement.Clone()))];
    }

    /// <summary>Dry run only: the enabled event triggers listening to another name at most <see cref="MaxNameDistance"/> edits
    /// away from <paramref name="name"/> (a typo on either side), by trigger id.</summary>
    private async Task<IReadOnlyList<TriggerVerdict>> NearNamesAsync(string tenantId, string environment, string name, CancellationToken cancellationToken)
    {
        var max = MaxNameDistance(name);
        if (max == 0) return [];
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(string TriggerId, string WorkflowId, string Name, string EventName)>(new CommandDefinition(
            $"SELECT trigger_id, workflow_id, name, event_name FROM {TriggersProjection.Table(database.Dialect)} " +
            "WHERE tenant_id = @tenantId AND environment = @environment AND type = 'event' AND enabled = @enabled AND event_name IS NOT NULL " +
            "AND event_name <> @name AND LENGTH(event_name) BETWEEN @shortest AND @longest ORDER BY trigger_id",
            new { tenantId, environment, name, enabled = true, shortest = name.Length - max, longest = name.Length + max },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. rows.Where(r => EditDistance(name, r.EventName, max) <= max).Select(r => new TriggerVerdict(r.TriggerId, r.WorkflowId, r.Name,
            SkipReasons.NameMismatch, [$"the trigger listens to '{r.EventName}', not '{name}' (a typo?)"]))];
    }

    /// <summary>How many edits still count as "close": none for names of up to 3 characters, 1 up to 7, then 2.</summary>
    private static int MaxNameDistance(string name) => Math.Min(2, name.Length / 4);

    /// <summary>Levenshtein distance of two short strings, or <paramref name="max"/> + 1 as soon as it must exceed it.</summary>
    internal static int EditDistance(string a, string b, int max)
    {
        if (Math.Abs(a.Length - b.Length) > max) return max + 1;
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            var best = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                best = Math.Min(best, current[j]);
            }

            if (best > max) return max + 1;
            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    /// <summary>A boolean column: <c>boolean</c> on PostgreSQL, <c>INTEGER</c> 0/1 on SQLite.</summary>
    private static bool IsTrue(object value) => SqlBool.Read(value);

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
