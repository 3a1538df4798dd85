using System.Text.Json;
using System.Text.Json.Serialization;
using FluentValidation;
using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.Definitions.Common;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.Definitions.Domain;
using Triggers.Modular.Definitions.Model;
using Triggers.Modular.Definitions.Validation;

namespace Triggers.Modular.Definitions.Definitions;

/// <summary>Replaces the document: a new version. <see cref="ExpectedVersions"/> (from <c>If-Match</c>) → 412 on mismatch. The
/// status (enabled/disabled) is not changed by an update — only by enable/disable — so a PUT cannot silently re-enable.</summary>
internal sealed record UpdateDefinition(string Id, IReadOnlyList<int>? ExpectedVersions, [property: JsonIgnore] DefinitionDocument Document, JsonElement Definition)
    : ICommand<DefinitionDto>, ITenantScoped;

internal sealed class UpdateDefinitionValidator : AbstractValidator<UpdateDefinition>
{
    public UpdateDefinitionValidator(DefinitionValidator validator) =>
        RuleFor(c => c.Document).SetValidator(new DefinitionDocumentValidator(validator));
}

internal sealed class UpdateDefinitionHandler(CommandHandler handler, RequestContext context, TimeProvider clock, DefinitionStatusCache statuses)
    : ICommandHandler<UpdateDefinition, DefinitionDto>
{
    public async ValueTask<DefinitionDto> Handle(UpdateDefinition command, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        if (!BuildingBlocks.Ids.PrefixedId.IsValid("wf", command.Id)) throw new BuildingBlocks.Errors.NotFoundException("Workflow definition", command.Id);
        // Without If-Match a concurrent update is simply decided again on the newer version; with it, the conflict is the answer.
        var result = await handler.HandleAsync(DefinitionDecider.Instance, DefinitionStreams.For(command.Id),
            new DefinitionCommand.Update(command.Id, scope.TenantId, scope.Environment, command.ExpectedVersions, command.Document.Name!,
                Enabled: null, command.Definition, clock.Now()),
            context.ToMetadata(), maxAttempts: command.ExpectedVersions is null ? 3 : 1, cancellationToken: cancellationToken);
        statuses.Invalidate(command.Id);
        return result.State.ToDto();
    }
}
