using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.Definitions.Common;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.Definitions.Domain;
using Triggers.Modular.Executions.Contracts;

namespace Triggers.Modular.Definitions.Definitions;

/// <summary>Enables or disables a definition (no new version). Doing it twice is a no-op.</summary>
internal sealed record SetDefinitionEnabled(string Id, bool Enabled) : ICommand<DefinitionDto>, ITenantScoped, IIdempotentCommand;

/// <summary>Deletes a definition; its history stays in the store for audit. Refused (409) while executions of it are pending or
/// running, unless <see cref="Force"/>, which cancels them first.</summary>
internal sealed record DeleteDefinition(string Id, bool Force = false) : ICommand<bool>, ITenantScoped;

internal sealed class ChangeDefinitionHandler(CommandHandler handler, RequestContext context, TimeProvider clock,
    IEnumerable<IExecutionsModule> executions, DefinitionStatusCache statuses)
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
        statuses.Invalidate(command.Id);
        return result.State.ToDto();
    }

    public async ValueTask<bool> Handle(DeleteDefinition command, CancellationToken cancellationToken)
    {
        var scope = Check(command.Id);
        await handler.LoadOwnedAsync(scope, command.Id, cancellationToken); // 404 before anything else
        var modules = executions.ToList(); // none when the Executions module is switched off
        foreach (var module in modules)
        {
            var active = await module.ListActiveAsync(scope.TenantId, scope.Environment, command.Id, cancellationToken);
            if (active.Count == 0 || command.Force) continue;
            var conflict = new ConflictException(
                $"Workflow definition '{command.Id}' has {active.Count} pending or running execution(s); wait for them, cancel them, "
                + "or delete with ?force=true, which cancels them first.", "definition-has-running-executions");
            conflict.Extensions["execution_ids"] = active.Take(100).ToArray();
            throw conflict;
        }

        // Delete first, so that nothing new can start (a deleted definition answers 404 to a start), then cancel what runs.
        await handler.HandleAsync(DefinitionDecider.Instance, DefinitionStreams.For(command.Id),
            new DefinitionCommand.Delete(command.Id, scope.TenantId, scope.Environment, clock.Now()), context.ToMetadata(),
            maxAttempts: 3, cancellationToken: cancellationToken);
        statuses.Invalidate(command.Id);
        if (command.Force)
            foreach (var module in modules)
                foreach (var id in await module.ListActiveAsync(scope.TenantId, scope.Environment, command.Id, cancellationToken))
                    await module.CancelAsync(scope.TenantId, scope.Environment, id, "the workflow definition was deleted", cancellationToken);
        return true;
    }

    private TenantScope Check(string id) =>
        PrefixedId.IsValid("wf", id) ? context.RequireTenant() : throw new NotFoundException("Workflow definition", id);
}
