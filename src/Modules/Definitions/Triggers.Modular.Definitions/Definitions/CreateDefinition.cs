using System.Text.Json;
using System.Text.Json.Serialization;
using FluentValidation;
using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.Definitions.Common;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.Definitions.Domain;
using Triggers.Modular.Definitions.Model;
using Triggers.Modular.Definitions.Validation;

namespace Triggers.Modular.Definitions.Definitions;

/// <summary>Creates a definition (version 1) in the caller's tenant × environment. <see cref="Definition"/> is the
/// document as sent; <see cref="Document"/> the same, bound (left out of the idempotency hash, which hashes the JSON).</summary>
internal sealed record CreateDefinition([property: JsonIgnore] DefinitionDocument Document, JsonElement Definition)
    : ICommand<DefinitionDto>, ITenantScoped, IIdempotentCommand;

internal sealed class CreateDefinitionValidator : AbstractValidator<CreateDefinition>
{
    public CreateDefinitionValidator(DefinitionValidator validator) =>
        RuleFor(c => c.Document).SetValidator(new DefinitionDocumentValidator(validator));
}

internal sealed class CreateDefinitionHandler(CommandHandler handler, RequestContext context, TimeProvider clock)
    : ICommandHandler<CreateDefinition, DefinitionDto>
{
    public async ValueTask<DefinitionDto> Handle(CreateDefinition command, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        // With an Idempotency-Key the id (and so the stream and the event ids) follow from the key: a re-run after a
        // crash finds its own events instead of creating a second definition.
        var id = context.IdempotencyKey is { } key
            ? PrefixedId.From("wf", DeterministicId.Create($"{scope.TenantId}/{scope.Environment}/{key}/CreateDefinition"))
            : PrefixedId.New("wf", clock);
        var stream = DefinitionStreams.For(id);
        var result = await handler.HandleAsync(DefinitionDecider.Instance, stream,
            new DefinitionCommand.Create(id, scope.TenantId, scope.Environment, command.Document.Name!, command.Document.Enabled ?? true,
                command.Definition, clock.Now()),
            context.ToMetadata(), CommandEventIds.From(context, nameof(CreateDefinition), stream), cancellationToken: cancellationToken);
        return result.State.ToDto();
    }
}
