using FluentValidation;
using Mediator;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Triggers.Contracts;

namespace Triggers.Modular.Audit.History;

/// <summary>Everything that followed from one accepted event (<c>evt_…</c>), webhook request (<c>whr_…</c>) or execution
/// (<c>exec_…</c>): the root's stream, then every stream reached through causation.</summary>
internal sealed record TraceAudit(string Id) : IQuery<AuditTrace>, ITenantScoped;

/// <summary>A stream of the trace, in the order it was reached, with its events of the trace (position order).</summary>
internal sealed record AuditTraceStream(string Stream, string Category, IReadOnlyList<AuditEventDto> Events);

/// <summary><see cref="Truncated"/>: the correlation held more than <see cref="AuditTraceRules.MaxEvents"/> events; the trace
/// stops there.</summary>
internal sealed record AuditTrace(string Id, string Stream, string? CorrelationId, IReadOnlyList<AuditTraceStream> Streams, int EventCount,
    bool Truncated);

internal static class AuditTraceRules
{
    public const int MaxEvents = 10_000;

    /// <summary>The stream a root id names.</summary>
    public static string? StreamOf(string id) =>
        id.StartsWith("evt_", StringComparison.Ordinal) ? EventEventTypes.StreamFor(id)
        : id.StartsWith("whr_", StringComparison.Ordinal) ? WebhookEventTypes.StreamFor(id)
        : id.StartsWith("exec_", StringComparison.Ordinal) ? ExecutionEventTypes.StreamFor(id)
        : null;

    /// <summary>The entity id a stream is named after (<c>execution-exec_1</c> → <c>exec_1</c>), which later events name as
    /// their causation.</summary>
    public static string EntityOf(string stream) => stream[(stream.IndexOf('-', StringComparison.Ordinal) + 1)..];
}

internal sealed class TraceAuditValidator : AbstractValidator<TraceAudit>
{
    public TraceAuditValidator() =>
        RuleFor(q => q.Id).NotEmpty().MaximumLength(100).Must(id => AuditTraceRules.StreamOf(id) is not null)
            .WithMessage("id is an accepted event (evt_…), a webhook request (whr_…) or an execution (exec_…).");
}

/// <summary>
/// The causal closure of a root, within its correlation: every event of the tenant × environment sharing the root's
/// correlation id is read in position order (a cause is always recorded before its effects), and one is part of the trace
/// when its stream already is, or when its causation id names an entity of the trace — the accepted event starting an
/// execution (causation = the event id), the execution's own events (causation = the execution id), an event an
/// <c>emit_event</c> step sent (causation = the execution id), and so on. Other requests of the same correlation (the
/// siblings in a batch) stay out.
/// </summary>
internal sealed class AuditTraceHandler(IEventHistory history, IEventStore store, RequestContext context) : IQueryHandler<TraceAudit, AuditTrace>
{
    public async ValueTask<AuditTrace> Handle(TraceAudit query, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        var root = AuditTraceRules.StreamOf(query.Id)!;
        var head = await store.ReadStreamAsync(root, ReadDirection.Forward, 0, 1, cancellationToken);
        if (head.Count == 0 || head[0].Metadata.TenantId != scope.TenantId || head[0].Metadata.Environment != scope.Environment)
            throw new NotFoundException("Event, webhook request or execution", query.Id);
        var correlation = head[0].Metadata.CorrelationId;

        var streams = new List<string> { root };
        var events = new Dictionary<string, List<AuditEventDto>>(StringComparer.Ordinal) { [root] = [] };
        var entities = new HashSet<string>(StringComparer.Ordinal) { AuditTraceRules.EntityOf(root) };
        var count = 0;
        var truncated = false;
        var page = new HistoryQuery(scope.TenantId, scope.Environment, ReadDirection.Forward, 1_000)
        {
            CorrelationId = correlation,
            Stream = correlation is null ? root : null, // without a correlation id only the root's own stream can be told apart
        };
        while (!truncated)
        {
            var read = await history.ReadAsync(page, cancellationToken);
            foreach (var e in read)
            {
                if (e.Position < head[0].Position) continue; // before the root: nothing there follows from it
                if (!events.TryGetValue(e.StreamName, out var list))
                {
                    if (e.Metadata.CausationId is not { } cause || !entities.Contains(cause)) continue;
                    streams.Add(e.StreamName);
                    events[e.StreamName] = list = [];
                    entities.Add(AuditTraceRules.EntityOf(e.StreamName));
                }

                list.Add(AuditEventDto.From(e));
                if (++count >= AuditTraceRules.MaxEvents)
                {
                    truncated = true;
                    break;
                }
            }

            if (read.Count < page.Limit) break;
            page = page with { After = read[^1].Position };
        }

        return new AuditTrace(query.Id, root, correlation,
            [.. streams.Select(s => new AuditTraceStream(s, StreamName.CategoryOf(s), events[s]))], count, truncated);
    }
}
