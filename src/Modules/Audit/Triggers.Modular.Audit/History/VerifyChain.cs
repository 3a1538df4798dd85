using FluentValidation;
using Mediator;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Mediation;

namespace Triggers.Modular.Audit.History;

/// <summary>Verifies the hash chains of the caller's tenant × environment (docs/adr/0016) over a range of positions:
/// after <see cref="From"/> (exclusive; default the beginning) up to <see cref="To"/> (inclusive; default the head, where
/// each stream's recorded end is checked too).</summary>
internal sealed record VerifyAuditChain(string? From, string? To) : IQuery<ChainReport>, ITenantScoped;

internal sealed class VerifyAuditChainValidator : AbstractValidator<VerifyAuditChain>
{
    public VerifyAuditChainValidator()
    {
        RuleFor(q => q.From).Must(p => p is null || GlobalPosition.TryParse(p, out _)).WithMessage("from is a position (an event's position field).");
        RuleFor(q => q.To).Must(p => p is null || GlobalPosition.TryParse(p, out _)).WithMessage("to is a position (an event's position field).");
    }
}

internal sealed class VerifyAuditChainHandler(ChainVerifier verifier, RequestContext context) : IQueryHandler<VerifyAuditChain, ChainReport>
{
    public async ValueTask<ChainReport> Handle(VerifyAuditChain query, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        GlobalPosition? from = query.From is not null && GlobalPosition.TryParse(query.From, out var f) ? f : null;
        GlobalPosition? to = query.To is not null && GlobalPosition.TryParse(query.To, out var t) ? t : null;
        return await verifier.VerifyAsync(scope.TenantId, scope.Environment, from, to, cancellationToken);
    }
}
