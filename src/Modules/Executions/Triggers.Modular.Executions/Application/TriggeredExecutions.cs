using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.Runtime;
using Triggers.Modular.Triggers.Contracts;

namespace Triggers.Modular.Executions.Application;

/// <summary>
/// Starts the executions that triggers fired (<see cref="TriggerFired"/>, recorded by the Triggers module's dispatcher for
/// events and by its webhook receiver for requests): the trigger's workflow at its latest version, the payload as
/// <c>trigger</c>, the firing's context (or <c>{ id, name }</c>) as <c>event</c>. The execution id comes with the firing, so a redelivery starts nothing twice. A definition deleted
/// between routing and start starts nothing (logged).
/// </summary>
internal sealed partial class TriggeredExecutions(ExecutionStarter starter, IDefinitionsModule definitions, EventSerializer serializer,
    TimeProvider clock, ILogger<TriggeredExecutions> logger) : IEventProcessor
{
    public string Name => "executions-triggered";

    public AllFilter? Filter { get; } = new(Categories: [EventEventTypes.Category, WebhookEventTypes.Category, ScheduleEventTypes.Category],
        EventTypePrefixes: [EventEventTypes.TriggerFired]);

    /// <summary>Executions of one page started at a time; their appends go to the store together (group commit).</summary>
    private const int Parallelism = 64;

    public Task HandleAsync(IReadOnlyList<RecordedEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        // The starts of one page share each definition's read (the latest version when the page is handled).
        var reads = new ConcurrentDictionary<(string, string, string), Task<DefinitionDto?>>();
        return Parallel.ForEachAsync(events, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            (e, ct) => StartAsync(e, reads, ct));
    }

    private async ValueTask StartAsync(RecordedEvent e, ConcurrentDictionary<(string, string, string), Task<DefinitionDto?>> reads,
        CancellationToken cancellationToken)
    {
        // Without the Triggers module's event types (module switched off) there is nothing to start.
        if (!serializer.Registry.IsRegistered(e.Type) || serializer.Deserialize(e) is not TriggerFired fired) return;
        var @event = fired.Context is { ValueKind: JsonValueKind.Object } context
            ? context
            : JsonSerializer.SerializeToElement(new { id = fired.EventId, name = fired.EventName });
        var triggerType = string.IsNullOrEmpty(fired.TriggerType) ? "event" : fired.TriggerType;
        try
        {
            var result = await starter.StartAsync(new StartExecution(fired.ExecutionId, fired.TenantId, fired.Environment, fired.WorkflowId, null, triggerType,
                fired.TriggerId, fired.Payload, @event, RequireEnabled: false, e.Metadata.CorrelationId, fired.EventId, $"trigger:{fired.TriggerId}"),
                cancellationToken, reads.GetOrAdd((fired.TenantId, fired.Environment, fired.WorkflowId),
                    key => definitions.GetAsync(key.Item1, key.Item2, key.Item3, cancellationToken: cancellationToken))).ConfigureAwait(false);
            if (result.Created)
                ExecutionMetrics.DispatchLatency.Record((clock.GetUtcNow() - fired.AcceptedAt).TotalSeconds);
        }
        catch (NotFoundException)
        {
            LogDefinitionGone(fired.EventId, fired.TriggerId, fired.WorkflowId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId}: trigger {TriggerId} fired, but workflow {WorkflowId} no longer exists; nothing started")]
    private partial void LogDefinitionGone(string eventId, string triggerId, string workflowId);
}
