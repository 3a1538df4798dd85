using FluentValidation;
using Triggers.Modular.Definitions.Model;

namespace Triggers.Modular.Definitions.Validation;

/// <summary>
/// <see cref="DefinitionValidator"/> as a FluentValidation validator, for commands that carry a document:
/// <c>RuleFor(c => c.Document).SetValidator(new DefinitionDocumentValidator(registry))</c>. Failures are added whole, so
/// their paths stay as the client wrote them (<c>steps[0].id</c>, never <c>Document.steps[0].id</c>).
/// </summary>
internal sealed class DefinitionDocumentValidator : AbstractValidator<DefinitionDocument>
{
    public DefinitionDocumentValidator(DefinitionValidator validator)
    {
        ArgumentNullException.ThrowIfNull(validator);
        RuleFor(x => x).Custom((document, context) =>
        {
            foreach (var failure in validator.Validate(document)) context.AddFailure(failure);
        });
    }
}
