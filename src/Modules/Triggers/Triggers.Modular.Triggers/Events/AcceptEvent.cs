using System.Text.Json;
using FluentValidation;
using FluentValidation.Results;
using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Json;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Triggers.Contracts;

namespace Triggers.Modular.Triggers.Events;

/// <summary><c>{ "name": "customer.created", "payload": { … } }</c>; a missing payload is <c>{}</c>.</summary>
internal sealed record EventInput(string? Name, JsonElement? Payload);

/// <summary>Accepts one event into the caller's tenant × environment: stored durably before the answer.</summary>
internal sealed record AcceptEvent(string? Name, JsonElement? Payload) : ICommand<EventReceived>, ITenantScoped, IIdempotentCommand;

/// <summary>Accepts up to <see cref="EventOptions.MaxBatchSize"/> events; each is checked and stored on its own.</summary>
internal sealed record AcceptEventBatch(IReadOnlyList<EventInput>? Events) : ICommand<EventBatchReceived>, ITenantScoped, IIdempotentCommand;

internal sealed record EventReceived(string Message, string EventId)
{
    public static EventReceived For(string eventId) => new("event received", eventId);
}

/// <summary>One result per event of a batch, in order: <c>accepted</c> with its id, or <c>rejected</c> with field errors
/// (named like the single-event API's: <c>name</c>, <c>payload</c>).</summary>
internal sealed record EventBatchItemResult(int Index, string Status, string? EventId, IDictionary<string, string[]>? Errors);

internal sealed record EventBatchReceived(int Accepted, int Rejected, IReadOnlyList<EventBatchItemResult> Results);

/// <summary>The rules for one event, shared by the single and the batch form.</summary>
internal static class EventRules
{
    public static IEnumerable<ValidationFailure> Check(string? name, JsonElement? payload, EventOptions options)
    {
        if (string.IsNullOrEmpty(name))
            yield return new ValidationFailure("name", "name is required, such as \"customer.created\".");
        else if (!EventNames.IsValid(name))
            yield return new ValidationFailure("name", $"'{Clip(name)}' is not a valid event name: use {EventNames.SyntaxDescription}.");

        if (payload is not { } p || p.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) yield break;
        if (p.ValueKind != JsonValueKind.Object)
        {
            yield return new ValidationFailure("payload", "payload must be a JSON object.");
            yield break;
        }

        if (!JsonNesting.IsWithin(p, options.MaxPayloadDepth))
        {
            yield return new ValidationFailure("payload", $"payload nests deeper than {options.MaxPayloadDepth} levels of objects and arrays; flatten it.");
            yield break;
        }

        var size = JsonSerializer.SerializeToUtf8Bytes(p).Length;
        if (size > options.MaxPayloadBytes)
            yield return new ValidationFailure("payload", $"payload is {size} bytes as JSON; the limit is {options.MaxPayloadBytes}.");
    }

    public static JsonElement PayloadOrEmpty(JsonElement? payload) =>
        payload is { ValueKind: JsonValueKind.Object } p ? p : Empty;

    private static readonly JsonElement Empty = JsonDocument.Parse("{}").RootElement.Clone();

    private static string Clip(string s) => s.Length <= 100 ? s : s[..100] + "…";
}

internal sealed class AcceptEventValidator : AbstractValidator<AcceptEvent>
{
    public AcceptEventValidator(EventOptions options) =>
        RuleFor(c => c).Custom((command, context) =>
        {
            foreach (var failure in EventRules.Check(command.Name, command.Payload, options)) context.AddFailure(failure);
        });
}

internal sealed class AcceptEventBatchValidator : AbstractValidator<AcceptEventBatch>
{
    public AcceptEventBatchValidator(EventOptions options) =>
        RuleFor(c => c.Events).NotNull().WithMessage("events is required: an array of { \"name\", \"payload\" }.")
            .Must(e => e is null || (e.Count >= 1 && e.Count <= options.MaxBatchSize))
            .WithMessage($"events must hold from 1 to {options.MaxBatchSize} events.");
}

/// <summary>Appends <see cref="EventAccepted"/> to a new stream per event. With an <c>Idempotency-Key</c> the event id and
/// the event's own id follow from the key, so a re-run after a lost reply finds its event instead of adding another.</summary>
internal sealed class AcceptEventHandler(IEventStore store, EventSerializer serializer, RequestContext context, EventOptions options, TimeProvider clock)
    : ICommandHandler<AcceptEvent, EventReceived>, ICommandHandler<AcceptEventBatch, EventBatchReceived>
{
    /// <summary>Appends of one batch run this many at a time; on PostgreSQL they are committed together (group commit).</summary>
    private const int BatchParallelism = 32;

    public async ValueTask<EventReceived> Handle(AcceptEvent command, CancellationToken cancellationToken)
    {
        var id = await AppendAsync(command.Name!, command.Payload, nameof(AcceptEvent), cancellationToken).ConfigureAwait(false);
        TriggerMetrics.EventsReceived.Add(1, new KeyValuePair<string, object?>("outcome", "accepted"));
        return EventReceived.For(id);
    }

    public async ValueTask<EventBatchReceived> Handle(AcceptEventBatch command, CancellationToken cancellationToken)
    {
        var events = command.Events!;
        var results = new EventBatchItemResult[events.Count];
        using var gate = new SemaphoreSlim(BatchParallelism);
        await Task.WhenAll(events.Select(async (e, i) =>
        {
            var failures = EventRules.Check(e.Name, e.Payload, options).ToList();
            if (failures.Count > 0)
            {
                results[i] = new EventBatchItemResult(i, "rejected", null,
                    failures.GroupBy(f => f.PropertyName).ToDictionary(g => g.Key, g => g.Select(f => f.ErrorMessage).ToArray()));
                return;
            }

            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                results[i] = new EventBatchItemResult(i, "accepted",
                    await AppendAsync(e.Name!, e.Payload, $"{nameof(AcceptEventBatch)}/{i}", cancellationToken).ConfigureAwait(false), null);
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);

        var accepted = results.Count(r => r.Status == "accepted");
        TriggerMetrics.EventsReceived.Add(accepted, new KeyValuePair<string, object?>("outcome", "accepted"));
        TriggerMetrics.EventsReceived.Add(results.Length - accepted, new KeyValuePair<string, object?>("outcome", "rejected"));
        return new EventBatchReceived(accepted, results.Length - accepted, results);
    }

    private async Task<string> AppendAsync(string name, JsonElement? payload, string command, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        var id = context.IdempotencyKey is { } key
            ? PrefixedId.From("evt", DeterministicId.Create($"{scope.TenantId}/{scope.Environment}/{key}/{command}"))
            : PrefixedId.New("evt", clock);
        var stream = EventEventTypes.StreamFor(id);
        var eventId = CommandEventIds.From(context, command, stream)?.Invoke(0) ?? Guid.CreateVersion7();
        var accepted = new EventAccepted(id, scope.TenantId, scope.Environment, name, EventRules.PayloadOrEmpty(payload), "api", 0, clock.Now());
        // A new stream: with a key, a repeat of the same append is recognised as a replay (same event id, same place).
        await store.AppendToStreamAsync(stream, ExpectedRevision.NoStream,
            [serializer.Serialize(accepted, eventId, context.ToMetadata())], cancellationToken)
            .ConfigureAwait(false);
        return id;
    }
}
