using FluentValidation.Results;
using Triggers.Modular.Definitions.Model;
using Triggers.Modular.Executions.Contracts.Steps;

namespace Triggers.Modular.Definitions.Validation;

/// <summary>
/// Validates a whole definition (SPEC §3, §4). Each failure's <see cref="ValidationFailure.PropertyName"/> is the
/// snake_case path of the field as the client wrote it (<c>steps[2].depends_on[0]</c>, <c>trigger.cron_expression</c>,
/// <c>steps[1].config.url</c>) and its message says what to change. The serialized size is the caller's check (request
/// body limit); this one bounds steps, triggers and nesting before doing anything costly.
/// </summary>
internal sealed class DefinitionValidator(IStepTypeRegistry stepTypes)
{
    private readonly StepsValidator _steps = new(stepTypes);

    public IReadOnlyList<ValidationFailure> Validate(DefinitionDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var errors = new ValidationErrors();

        if (string.IsNullOrWhiteSpace(document.Name))
            errors.Add("name", $"name is required: 1 to {DefinitionLimits.NameMaxLength} characters.");
        else if (document.Name.Length > DefinitionLimits.NameMaxLength)
            errors.Add("name", $"name is {document.Name.Length} characters long; at most {DefinitionLimits.NameMaxLength} are allowed.");

        if (document.Description is { Length: > DefinitionLimits.DescriptionMaxLength })
            errors.Add("description", $"description is {document.Description.Length} characters long; at most {DefinitionLimits.DescriptionMaxLength} are allowed.");

        ValidateTriggers(document, errors);
        _steps.Validate(document.Steps, document.TimeoutSeconds, errors);
        RetryPolicyValidator.Validate(document.RetryPolicy, "retry_policy", errors);
        RetryPolicyValidator.ValidateTimeout(document.TimeoutSeconds, "timeout_seconds", errors);
        return errors.Failures;
    }

    private static void ValidateTriggers(DefinitionDocument document, ValidationErrors errors)
    {
        var total = (document.Trigger is null ? 0 : 1) + (document.Triggers?.Count ?? 0);
        if (total > DefinitionLimits.MaxTriggers)
        {
            errors.Add(document.Triggers is null ? "trigger" : "triggers",
                $"a definition has at most {DefinitionLimits.MaxTriggers} triggers (trigger and triggers together); this one has {total}.");
            return;
        }

        if (document.Trigger is not null) TriggerValidator.Validate(document.Trigger, "trigger", errors);
        for (var i = 0; i < (document.Triggers?.Count ?? 0); i++)
            TriggerValidator.Validate(document.Triggers![i], $"triggers[{i}]", errors);
    }
}
