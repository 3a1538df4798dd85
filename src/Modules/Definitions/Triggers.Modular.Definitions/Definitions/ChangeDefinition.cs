using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.Definitions.Common;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.Definitions.Domain;

namespace Triggers.Modular.Definitions.Definitions;

/// <summary>Enables or disables a definition (no new version). Doing it twice is a no-op.</summary>
internal sealed record SetDefinitionEnabled(string Id, bool Enabled) : ICommand<DefinitionDto>, ITenantScoped, IIdempotentCommand;

/// <summary>Deletes a definition; its history stays in the store for audit.</summary>
internal sealed record DeleteDefinition(string Id) : ICommand<bool>, ITenantScoped;

internal sealed class ChangeDefinitionHandler(CommandHandler handler, RequestContext context, TimeProvider clock)
    : ICommandHandler<SetDefinitionEnabled, DefinitionDto>, ICommandHandler<DeleteDefinition, bool>
{
    public async ValueTask<DefinitionDto> Handle(SetDefinitionEnabled command, CancellationToken cancellationToken)
    {
        var scope = Check(command.Id);
        DefinitionCommand change = command.Enabled
            ? new DefinitionCommand.Enable(command.Id, scope.TenantId, scope.Environment, clock.Now())
            : new DefinitionCommand.Disable(command.Id, scope.TenantId, scope.Environment, clock.Now());
        var result = await handler.HandleAsync(DefinitionDecider.Instance, DefinitionStreams.For(command.Id), change, context.ToMetadata(),
            maxAttempts: 3, cancellationToken: cancellationToken);
        return result.State.ToDto();
    }

    public async ValueTask<bool> Handle(DeleteDefinition command, CancellationToken cancellationToken)
    {
        var scope = Check(command.Id);
        await handler.HandleAsync(DefinitionDecider.Instance, DefinitionStreams.For(command.Id),
            new DefinitionCommand.Delete(command.Id, scope.TenantId, scope.Environment, clock.Now()), context.ToMetadata(),
            maxAttempts: 3, cancellationToken: cancellationToken);
        return true;
    }

    private TenantScope Check(string id) =>
        PrefixedId.IsValid("wf", id) ? context.RequireTenant() : throw new NotFoundException("Workflow definition", id);
}
