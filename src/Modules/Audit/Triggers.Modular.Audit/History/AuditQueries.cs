using System.Text.Json;
using FluentValidation;
using Mediator;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Mediation;

namespace Triggers.Modular.Audit.History;

/// <summary>Filters of <c>GET /api/v1/audit/events</c> (SPEC §6), combined with AND. <see cref="Type"/> is an event type, or a
/// prefix ending in <c>*</c> (<c>executions.*</c>); <see cref="From"/> inclusive, <see cref="To"/> exclusive; <see cref="Order"/>
/// <c>newest</c> (default) or <c>oldest</c>; <see cref="Cursor"/> continues from a page's <c>next_cursor</c>.</summary>
internal sealed record AuditFilter(string? Stream, string? Category, string? Type, DateTimeOffset? From, DateTimeOffset? To, string? CorrelationId,
    string? Actor, string? Order, int Limit, string? Cursor);

internal sealed record ListAuditEvents(AuditFilter Filter) : IQuery<AuditEventPage>, ITenantScoped;

/// <summary>Validates the filter and answers the store query an NDJSON export then streams (every matching event; the
/// limit does not apply).</summary>
internal sealed record PlanAuditExport(AuditFilter Filter) : IQuery<HistoryQuery>, ITenantScoped;

/// <summary>One stream's events in revision order, from <see cref="FromRevision"/>; a stream with no event in the caller's
/// tenant × environment is 404.</summary>
internal sealed record ReadAuditStream(string Stream, long FromRevision, int Limit) : IQuery<AuditStreamPage>, ITenantScoped;

/// <summary>An event as auditors see it: its place in <c>$all</c> (<see cref="Position"/>) and in its stream, type, time,
/// who did it, what caused it, and its data.</summary>
internal sealed record AuditEventDto(string Position, string EventId, string Stream, long Revision, string Type, int SchemaVersion,
    DateTimeOffset RecordedAt, string? Actor, string? CorrelationId, string? CausationId, JsonElement Data)
{
    public static AuditEventDto From(RecordedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        using var data = JsonDocument.Parse(e.Data);
        return new AuditEventDto(e.Position.ToString(), e.EventId.ToString(), e.StreamName, e.Revision, e.Type, e.SchemaVersion, e.CreatedAt,
            e.Metadata.Actor, e.Metadata.CorrelationId, e.Metadata.CausationId, data.RootElement.Clone());
    }
}

/// <summary><see cref="NextCursor"/> is null when the page is the last one (fewer items than the limit).</summary>
internal sealed record AuditEventPage(IReadOnlyList<AuditEventDto> Items, string? NextCursor, int Limit);

/// <summary><see cref="NextRevision"/> is null on the last page.</summary>
internal sealed record AuditStreamPage(string Stream, IReadOnlyList<AuditEventDto> Items, long? NextRevision);

internal static class AuditFilterRules
{
    public const int MaxLimit = 1_000;

    public static void Apply<T>(AbstractValidator<T> validator, Func<T, AuditFilter> filter)
    {
        validator.RuleFor(q => filter(q).Limit).InclusiveBetween(1, MaxLimit).OverridePropertyName("limit");
        validator.RuleFor(q => filter(q).Order).Must(o => o is null or "newest" or "oldest").OverridePropertyName("order")
            .WithMessage("order must be newest or oldest.");
        validator.RuleFor(q => filter(q).Cursor).Must(c => c is null || GlobalPosition.TryParse(c, out _)).OverridePropertyName("cursor")
            .WithMessage("cursor is not one this endpoint issued: pass a page's next_cursor unchanged.");
        validator.RuleFor(q => filter(q).To).GreaterThan(q => filter(q).From).When(q => filter(q).From is not null && filter(q).To is not null)
            .OverridePropertyName("to").WithMessage("to must be after from.");
        validator.RuleFor(q => filter(q).Type).Must(t => t is null || (t.Length > 0 && (t.IndexOf('*', StringComparison.Ordinal) is var i && (i < 0 || i == t.Length - 1))))
            .OverridePropertyName("type").WithMessage("type is an event type (executions.step_completed) or a prefix ending in * (executions.*).");
        foreach (var (name, get) in new (string, Func<AuditFilter, string?>)[]
                 {
                     ("stream", f => f.Stream), ("category", f => f.Category), ("type", f => f.Type), ("correlation_id", f => f.CorrelationId),
                     ("actor", f => f.Actor),
                 })
            validator.RuleFor(q => get(filter(q))).MaximumLength(500).OverridePropertyName(name);
    }

    public static HistoryQuery ToQuery(this AuditFilter f, TenantScope scope, int limit)
    {
        var prefix = f.Type is { } t && t.EndsWith('*') ? t[..^1] : null;
        GlobalPosition? after = f.Cursor is not null && GlobalPosition.TryParse(f.Cursor, out var p) ? p : null;
        return new HistoryQuery(scope.TenantId, scope.Environment, f.Order == "oldest" ? ReadDirection.Forward : ReadDirection.Backward, limit)
        {
            After = after, Stream = f.Stream, Category = f.Category, Type = prefix is null ? f.Type : null, TypePrefix = prefix, From = f.From,
            To = f.To, CorrelationId = f.CorrelationId, Actor = f.Actor,
        };
    }
}

internal sealed class ListAuditEventsValidator : AbstractValidator<ListAuditEvents>
{
    public ListAuditEventsValidator() => AuditFilterRules.Apply(this, q => q.Filter);
}

internal sealed class PlanAuditExportValidator : AbstractValidator<PlanAuditExport>
{
    public PlanAuditExportValidator() => AuditFilterRules.Apply(this, q => q.Filter);
}

internal sealed class ReadAuditStreamValidator : AbstractValidator<ReadAuditStream>
{
    public ReadAuditStreamValidator()
    {
        RuleFor(q => q.Stream).NotEmpty().MaximumLength(500);
        RuleFor(q => q.FromRevision).GreaterThanOrEqualTo(0);
        RuleFor(q => q.Limit).InclusiveBetween(1, AuditFilterRules.MaxLimit);
    }
}

internal sealed class AuditQueryHandler(IEventHistory history, IEventStore store, RequestContext context)
    : IQueryHandler<ListAuditEvents, AuditEventPage>, IQueryHandler<PlanAuditExport, HistoryQuery>, IQueryHandler<ReadAuditStream, AuditStreamPage>
{
    public async ValueTask<AuditEventPage> Handle(ListAuditEvents query, CancellationToken cancellationToken)
    {
        var f = query.Filter;
        var events = await history.ReadAsync(f.ToQuery(context.RequireTenant(), f.Limit), cancellationToken);
        return new AuditEventPage([.. events.Select(AuditEventDto.From)], events.Count == f.Limit ? events[^1].Position.ToString() : null, f.Limit);
    }

    public ValueTask<HistoryQuery> Handle(PlanAuditExport query, CancellationToken cancellationToken) =>
        ValueTask.FromResult(query.Filter.ToQuery(context.RequireTenant(), AuditFilterRules.MaxLimit));

    public async ValueTask<AuditStreamPage> Handle(ReadAuditStream query, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        var events = await store.ReadStreamAsync(query.Stream, ReadDirection.Forward, query.FromRevision, query.Limit, cancellationToken);
        // A stream belongs to one tenant × environment; another's, or one without events, is not found — alike.
        if (events.Count > 0 && events.Any(e => e.Metadata.TenantId != scope.TenantId || e.Metadata.Environment != scope.Environment))
            throw new NotFoundException("Stream", query.Stream);
        if (events.Count == 0 && (query.FromRevision == 0 || !await OwnsAsync(scope, query.Stream, cancellationToken)))
            throw new NotFoundException("Stream", query.Stream);
        return new AuditStreamPage(query.Stream, [.. events.Select(AuditEventDto.From)], events.Count == query.Limit ? events[^1].Revision + 1 : null);
    }

    private async Task<bool> OwnsAsync(TenantScope scope, string stream, CancellationToken cancellationToken)
    {
        var first = await store.ReadStreamAsync(stream, ReadDirection.Forward, 0, 1, cancellationToken);
        return first.Count == 1 && first[0].Metadata.TenantId == scope.TenantId && first[0].Metadata.Environment == scope.Environment;
    }
}
