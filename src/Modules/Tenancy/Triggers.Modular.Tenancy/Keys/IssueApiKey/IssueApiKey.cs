using FluentValidation;
using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.Tenancy.Common;
using Triggers.Modular.Tenancy.Contracts;
using Triggers.Modular.Tenancy.Keys.Domain;
using Triggers.Modular.Tenancy.Tenants.Domain;

namespace Triggers.Modular.Tenancy.Keys;

/// <summary>
/// Issues an API key for a tenant × environment. Not an <see cref="IIdempotentCommand"/>: its response holds the token,
/// which must never be stored, not even in the idempotency table.
/// </summary>
internal sealed record IssueApiKey(string TenantId, string Environment, string Name, IReadOnlyList<string> Permissions)
    : ICommand<IssuedApiKeyDto>, ITenantScoped;

internal sealed class IssueApiKeyValidator : AbstractValidator<IssueApiKey>
{
    public IssueApiKeyValidator()
    {
        RuleFor(x => x.TenantId).Must(Slugs.IsTenantId).WithMessage($"Must be a tenant id: {Slugs.TenantIdRule}.");
        RuleFor(x => x.Environment).Must(Slugs.IsEnvironment).WithMessage($"Must be an environment name: {Slugs.EnvironmentRule}.");
        RuleFor(x => x.Name).NotEmpty().MaximumLength(100);
        RuleFor(x => x.Permissions).NotEmpty().WithMessage("At least one permission is required.");
        RuleForEach(x => x.Permissions).Must(Permissions.IsKnown)
            .WithMessage((_, p) => $"Unknown permission '{p}'; known: {string.Join(", ", Permissions.All)}.");
    }
}

internal sealed class IssueApiKeyHandler(CommandHandler handler, RequestContext context, TimeProvider clock)
    : ICommandHandler<IssueApiKey, IssuedApiKeyDto>
{
    public async ValueTask<IssuedApiKeyDto> Handle(IssueApiKey command, CancellationToken cancellationToken)
    {
        // Strongly consistent: the tenant's own stream, not the read model.
        var (tenant, _) = await handler.LoadAsync(TenantDecider.Instance, Streams.Tenant(command.TenantId), cancellationToken);
        if (!tenant.Exists) throw new NotFoundException("Tenant", command.TenantId);
        if (tenant.Environment(command.Environment) is null) throw new NotFoundException("Environment", command.Environment);

        var token = ApiKeyTokens.Create(PrefixedId.New(ApiKeyTokens.KeyIdPrefix, clock));
        var metadata = context.ToMetadata() with { TenantId = command.TenantId, Environment = command.Environment };
        var result = await handler.HandleAsync(ApiKeyDecider.Instance, Streams.ApiKey(token.KeyId),
            new ApiKeyCommand.Issue(token.KeyId, command.TenantId, command.Environment, command.Name, command.Permissions,
                token.TokenHash, token.Prefix, clock.Now()), metadata, cancellationToken: cancellationToken);
        var key = result.State;
        return new IssuedApiKeyDto(token.KeyId, key.Prefix, token.Token, key.Name, key.TenantId, key.Environment, key.Permissions, key.CreatedAt);
    }
}
