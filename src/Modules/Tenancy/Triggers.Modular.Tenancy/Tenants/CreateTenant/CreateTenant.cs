using FluentValidation;
using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.Tenancy.Common;
using Triggers.Modular.Tenancy.Contracts;
using Triggers.Modular.Tenancy.Tenants.Domain;

namespace Triggers.Modular.Tenancy.Tenants;

/// <summary>Creates a tenant with its initial environments (operator only).</summary>
/// <remarks><see cref="Id"/> is named as in the request body (<c>id</c>), so that a field error names the field the caller sent.</remarks>
internal sealed record CreateTenant(string Id, string Name, IReadOnlyList<string> Environments) : ICommand<TenantDto>, IIdempotentCommand;

internal sealed class CreateTenantValidator : AbstractValidator<CreateTenant>
{
    public CreateTenantValidator()
    {
        RuleFor(x => x.Id).Must(Slugs.IsTenantId).WithMessage($"Must be a tenant id: {Slugs.TenantIdRule}.");
        RuleFor(x => x.Name).NotEmpty().MaximumLength(200);
        RuleFor(x => x.Environments).Cascade(CascadeMode.Stop).NotNull().Must(e => e.Count <= 20).WithMessage("At most 20 environments.")
            .Must(e => e.Distinct(StringComparer.Ordinal).Count() == e.Count).WithMessage("Environment names must be unique.");
        RuleForEach(x => x.Environments).Must(Slugs.IsEnvironment).WithMessage($"Must be an environment name: {Slugs.EnvironmentRule}.");
    }
}

internal sealed class CreateTenantHandler(CommandHandler handler, RequestContext context, TimeProvider clock)
    : ICommandHandler<CreateTenant, TenantDto>
{
    public async ValueTask<TenantDto> Handle(CreateTenant command, CancellationToken cancellationToken)
    {
        var stream = Streams.Tenant(command.Id);
        var metadata = context.ToMetadata() with { TenantId = command.Id, Environment = null };
        var result = await handler.HandleAsync(TenantDecider.Instance, stream,
            new TenantCommand.Create(command.Id, command.Name, command.Environments, clock.Now()), metadata,
            CommandEventIds.From(context, nameof(CreateTenant), stream), maxAttempts: 3, cancellationToken: cancellationToken);
        return ToDto(result.State);
    }

    public static TenantDto ToDto(TenantState state) =>
        new(state.TenantId!, state.Name, [.. state.Environments.Select(e => e.Name)], state.CreatedAt);
}
