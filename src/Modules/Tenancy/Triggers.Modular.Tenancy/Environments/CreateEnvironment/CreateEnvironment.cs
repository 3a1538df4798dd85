using FluentValidation;
using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.Tenancy.Common;
using Triggers.Modular.Tenancy.Contracts;
using Triggers.Modular.Tenancy.Tenants.Domain;

namespace Triggers.Modular.Tenancy.Environments;

/// <summary>Adds an environment to a tenant: the caller's own tenant, or any tenant for an operator.</summary>
internal sealed record CreateEnvironment(string TenantId, string Name) : ICommand<EnvironmentDto>, ITenantScoped, IIdempotentCommand;

internal sealed class CreateEnvironmentValidator : AbstractValidator<CreateEnvironment>
{
    public CreateEnvironmentValidator()
    {
        RuleFor(x => x.TenantId).Must(Slugs.IsTenantId).WithMessage($"Must be a tenant id: {Slugs.TenantIdRule}.");
        RuleFor(x => x.Name).Must(Slugs.IsEnvironment).WithMessage($"Must be an environment name: {Slugs.EnvironmentRule}.");
    }
}

internal sealed class CreateEnvironmentHandler(CommandHandler handler, RequestContext context, TimeProvider clock)
    : ICommandHandler<CreateEnvironment, EnvironmentDto>
{
    public async ValueTask<EnvironmentDto> Handle(CreateEnvironment command, CancellationToken cancellationToken)
    {
        var stream = Streams.Tenant(command.TenantId);
        var metadata = context.ToMetadata() with { TenantId = command.TenantId, Environment = command.Name };
        var result = await handler.HandleAsync(TenantDecider.Instance, stream,
            new TenantCommand.AddEnvironment(command.TenantId, command.Name, clock.Now()), metadata,
            CommandEventIds.From(context, nameof(CreateEnvironment), stream), maxAttempts: 3, cancellationToken: cancellationToken);
        var created = result.State.Environment(command.Name)
            ?? throw new InvalidOperationException($"Environment '{command.Name}' missing after its creation.");
        return new EnvironmentDto(command.TenantId, created.Name, created.CreatedAt);
    }
}
