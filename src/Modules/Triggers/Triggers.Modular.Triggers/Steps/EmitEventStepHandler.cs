using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Executions.Contracts.Steps.BuiltIn;
using Triggers.Modular.Executions.Contracts.Templates;
using Triggers.Modular.Triggers.Contracts;
using Triggers.Modular.Triggers.Events;

namespace Triggers.Modular.Triggers.Steps;

/// <summary>
/// Runs <c>emit_event</c> steps (<see cref="EmitEventStepType"/>): renders <c>config.name</c> and <c>config.payload</c> against the
/// execution's context, checks them by the events API's rules, and appends an <see cref="EventAccepted"/> (source <c>step</c>)
/// to a new event stream of the step's tenant × environment — where the dispatcher routes it like any event sent from outside.
/// <para>
/// <b>Loop guard.</b> The emitted event's depth is the depth of the event that started the execution (read from that event's
/// stream: 0 for one sent from outside; an execution not started by an event counts as 0) plus one. Deeper than
/// <see cref="EventOptions.MaxEmitDepth"/>, the step fails with <c>emit_depth_exceeded</c> (not retried) and nothing is emitted,
/// so a workflow emitting the event it listens to runs that many times and stops.
/// </para>
/// <para>
/// <b>At least once.</b> The event's id follows from the step's idempotency key (<c>{execution_id}:{step_id}</c>) and the stream
/// is created at <see cref="ExpectedRevision.NoStream"/>: a redelivery, or a retry of the execution, finds the event it emitted
/// (an idempotent replay or a revision conflict) and completes with that event instead of sending a second one.
/// </para>
/// <para>
/// <b>Causation.</b> Metadata: the step's tenant and environment, actor <c>execution:{id}</c>, the execution's correlation id
/// (else its id) and the execution id as causation — the chain reads event → <c>trigger_fired</c> → execution → emitted event.
/// </para>
/// Output: <c>{ "event_id": "evt_…", "name": "…", "depth": n }</c>. Failures: <c>invalid_config</c>, <c>template_error</c>,
/// <c>invalid_event</c>, <c>emit_depth_exceeded</c> (none retried); <c>store_error</c> (retried).
/// </summary>
internal sealed partial class EmitEventStepHandler(IEventStore store, EventSerializer serializer, EventOptions options, TimeProvider clock,
    ILogger<EmitEventStepHandler> logger) : IStepHandler
{
    public const string Source = "step";

    public string StepType => EmitEventStepType.TypeName;

    public async ValueTask<StepOutcome> ExecuteAsync(StepExecutionContext step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (step.Config.ValueKind != JsonValueKind.Object
            || !step.Config.TryGetProperty("name", out var nameTemplate)
            || nameTemplate.ValueKind != JsonValueKind.String)
            return NonRetryable("invalid_config", "The emit_event step needs a config object with \"name\" (a string) and an optional \"payload\".");

        string name;
        JsonElement? payload = null;
        try
        {
            name = TemplateRenderer.RenderString(nameTemplate.GetString()!, step.Context);
            if (step.Config.TryGetProperty("payload", out var payloadTemplate))
                payload = TemplateRenderer.RenderJson(payloadTemplate, step.Context);
        }
        catch (TemplateRenderException e)
        {
            return NonRetryable("template_error", e.Message);
        }

        // The events API's rules, so that an emitted event is one the API would have accepted.
        var failures = EventRules.Check(name, payload, options).Select(f => $"{f.PropertyName}: {f.ErrorMessage}").ToList();
        if (failures.Count > 0)
        {
            Count("invalid");
            return NonRetryable("invalid_event", $"The rendered event is not valid: {string.Join(" ", failures)}");
        }

        try
        {
            var causeDepth = CauseDepthAsync(step, cancellationToken);
            var correlation = CorrelationAsync(step, cancellationToken);
            await Task.WhenAll(causeDepth, correlation).ConfigureAwait(false);
            var depth = await causeDepth.ConfigureAwait(false) + 1;
            if (depth > options.MaxEmitDepth)
            {
                Count("depth_exceeded");
                LogDepthExceeded(step.ExecutionId, step.StepId, name, depth, options.MaxEmitDepth);
                return NonRetryable("emit_depth_exceeded",
                    $"Not emitting '{name}': it would be at depth {depth} of a causation chain of emitted events (each emitted by an execution that the "
                    + $"previous one started), deeper than the limit of {options.MaxEmitDepth} (Triggers:Events:MaxEmitDepth). The limit stops workflows "
                    + "that emit the events they (or each other) listen to from looping forever.");
            }

            return await AppendAsync(step, name, payload, depth, await correlation.ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is EventStoreException or DbException or TimeoutException)
        {
            return StepOutcome.RetryableError("store_error", $"The event store failed: {e.Message}");
        }
    }

    private async Task<StepOutcome> AppendAsync(StepExecutionContext step, string name, JsonElement? payload, int depth, string correlationId,
        CancellationToken cancellationToken)
    {
        var id = PrefixedId.From("evt", DeterministicId.Create($"{step.IdempotencyKey}/emit_event"));
        var stream = EventEventTypes.StreamFor(id);
        var eventId = DeterministicId.Create($"{step.IdempotencyKey}/emit_event/{stream}");
        var accepted = new EventAccepted(id, step.TenantId, step.Environment, name, EventRules.PayloadOrEmpty(payload), Source, depth, clock.Now());
        var metadata = new EventMetadata(step.TenantId, step.Environment, $"execution:{step.ExecutionId}", correlationId, step.ExecutionId);
        try
        {
            var result = await store.AppendToStreamAsync(stream, ExpectedRevision.NoStream, [serializer.Serialize(accepted, eventId, metadata)],
                cancellationToken).ConfigureAwait(false);
            if (result.WasIdempotentReplay) return await AlreadyEmittedAsync(step, stream, cancellationToken).ConfigureAwait(false);
        }
        catch (WrongExpectedRevisionException)
        {
            // The stream exists: an earlier delivery of this step emitted the event (its append was replayed differently).
            return await AlreadyEmittedAsync(step, stream, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidAppendException e)
        {
            Count("invalid");
            return NonRetryable("invalid_event", $"The event store refused the event: {e.Message}");
        }

        Count("emitted");
        return StepOutcome.Success(Output(id, name, depth));
    }

    /// <summary>A redelivery found the event an earlier delivery emitted: completes with that event, as the first one did.</summary>
    private async Task<StepOutcome> AlreadyEmittedAsync(StepExecutionContext step, string stream, CancellationToken cancellationToken)
    {
        var stored = await store.ReadStreamAsync(stream, ReadDirection.Forward, 0, 1, cancellationToken).ConfigureAwait(false);
        if (stored is [{ Type: EventEventTypes.Accepted } first] && serializer.Deserialize(first) is EventAccepted accepted
            && accepted.TenantId == step.TenantId && accepted.Environment == step.Environment)
            return StepOutcome.Success(Output(accepted.EventId, accepted.Name, accepted.Depth));
        return NonRetryable("event_id_taken", $"The stream '{stream}' derived from this step is taken by something else; nothing was emitted.");
    }

    /// <summary>The depth of the event that started the execution (<c>event.id</c> in the context): read from its own stream,
    /// so nothing but the store decides it; 0 when no event started the execution.</summary>
    private async Task<int> CauseDepthAsync(StepExecutionContext step, CancellationToken cancellationToken)
    {
        if (step.Context.ValueKind != JsonValueKind.Object
            || !step.Context.TryGetProperty("event", out var @event) || @event.ValueKind != JsonValueKind.Object
            || !@event.TryGetProperty("id", out var idElement) || idElement.ValueKind != JsonValueKind.String
            || idElement.GetString() is not { } eventId || !PrefixedId.IsValid("evt", eventId))
            return 0;

        var stored = await store.ReadStreamAsync(EventEventTypes.StreamFor(eventId), ReadDirection.Forward, 0, 1, cancellationToken)
            .ConfigureAwait(false);
        return stored is [{ Type: EventEventTypes.Accepted } first] && serializer.Deserialize(first) is EventAccepted accepted
            && accepted.TenantId == step.TenantId && accepted.Environment == step.Environment
            ? accepted.Depth
            : 0;
    }

    /// <summary>The execution's correlation id (the metadata of its first event), else its id.</summary>
    private async Task<string> CorrelationAsync(StepExecutionContext step, CancellationToken cancellationToken)
    {
        var first = await store.ReadStreamAsync(ExecutionEventTypes.StreamFor(step.ExecutionId), ReadDirection.Forward, 0, 1, cancellationToken)
            .ConfigureAwait(false);
        return first is [{ Metadata.CorrelationId: { Length: > 0 } correlation }] ? correlation : step.ExecutionId;
    }

    private static JsonElement Output(string eventId, string name, int depth) =>
        JsonSerializer.SerializeToElement(new JsonObject { ["event_id"] = eventId, ["name"] = name, ["depth"] = depth });

    private static StepOutcome NonRetryable(string code, string message) => StepOutcome.NonRetryableError(code, message);

    private static void Count(string outcome) => TriggerMetrics.EventsEmitted.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Execution {ExecutionId}, step {StepId}: emit_event '{EventName}' refused at depth {Depth} (limit {Limit}); the loop guard stopped the chain")]
    private partial void LogDepthExceeded(string executionId, string stepId, string eventName, int depth, int limit);
}
