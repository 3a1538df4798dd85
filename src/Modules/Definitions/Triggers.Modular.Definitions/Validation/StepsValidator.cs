using System.Text.Json;
using System.Text.RegularExpressions;
using Triggers.Modular.Definitions.Model;
using Triggers.Modular.Executions.Contracts.Steps;

namespace Triggers.Modular.Definitions.Validation;

/// <summary>Each step on its own (id, type, config, condition, bounds), then the graph: references, order, cycles.</summary>
internal sealed partial class StepsValidator(IStepTypeRegistry stepTypes)
{
    public void Validate(IReadOnlyList<StepDocument?>? steps, int? definitionTimeout, ValidationErrors errors)
    {
        if (steps is null || steps.Count == 0)
        {
            errors.Add("steps", "steps is required: a non-empty array such as [ { \"id\": \"notify\", \"type\": \"http\", \"config\": { ... } } ].");
            return;
        }

        if (steps.Count > DefinitionLimits.MaxSteps)
        {
            errors.Add("steps", $"a definition has at most {DefinitionLimits.MaxSteps} steps; this one has {steps.Count}. Split it into several workflows.");
            return;
        }

        var firstIndexById = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            if (step is null)
            {
                errors.Add($"steps[{i}]", "a step object is required, such as { \"id\": \"notify\", \"type\": \"http\", \"config\": { ... } }.");
                continue;
            }

            ValidateId(step.Id, i, firstIndexById, errors);
            ValidateStep(step, $"steps[{i}]", definitionTimeout, errors);
        }

        StepGraphValidator.Validate(steps, firstIndexById, errors);
    }

    private static void ValidateId(string? id, int i, Dictionary<string, int> firstIndexById, ValidationErrors errors)
    {
        var path = $"steps[{i}].id";
        if (string.IsNullOrEmpty(id))
            errors.Add(path, "id is required: lower-case letters, digits and '_', starting with a letter, such as \"send_welcome\".");
        else if (!IdSyntax().IsMatch(id))
            errors.Add(path, $"'{TriggerValidator.Clip(id)}' is not a valid step id: use lower-case letters, digits and '_', starting with a letter, at most {DefinitionLimits.StepIdMaxLength} characters.");
        else if (!firstIndexById.TryAdd(id, i))
            errors.Add(path, $"duplicate step id '{id}': already used by steps[{firstIndexById[id]}]; step ids must be unique.");
    }

    private void ValidateStep(StepDocument step, string path, int? definitionTimeout, ValidationErrors errors)
    {
        if (step.Name is { Length: > DefinitionLimits.StepNameMaxLength })
            errors.Add($"{path}.name", $"name is longer than {DefinitionLimits.StepNameMaxLength} characters.");
        if (step.Order is < 0)
            errors.Add($"{path}.order", $"order must be 0 or greater; it is {step.Order}.");

        ValidateTypeAndConfig(step, path, errors);
        if (step.Condition.IsPresent()) ConditionValidator.Validate(step.Condition!.Value, $"{path}.condition", errors);
        RetryPolicyValidator.Validate(step.RetryPolicy, $"{path}.retry_policy", errors);
        RetryPolicyValidator.ValidateTimeout(step.TimeoutSeconds, $"{path}.timeout_seconds", errors);
        if (step.TimeoutSeconds > definitionTimeout && definitionTimeout is >= DefinitionLimits.MinTimeoutSeconds)
            errors.Add($"{path}.timeout_seconds", $"a step's timeout_seconds ({step.TimeoutSeconds}) may not exceed the definition's timeout_seconds ({definitionTimeout}).");
    }

    private void ValidateTypeAndConfig(StepDocument step, string path, ValidationErrors errors)
    {
        if (string.IsNullOrEmpty(step.Type))
        {
            errors.Add($"{path}.type", $"type is required; {KnownTypes()}.");
            return;
        }

        if (!stepTypes.TryGet(step.Type, out var stepType))
        {
            errors.Add($"{path}.type", $"unknown step type '{TriggerValidator.Clip(step.Type)}'; {KnownTypes()}.");
            return;
        }

        var config = step.Config.IsPresent() ? step.Config!.Value : default;
        if (config.ValueKind != JsonValueKind.Undefined && !JsonDepth.IsWithin(config, DefinitionLimits.MaxJsonDepth))
        {
            errors.Add($"{path}.config", JsonDepth.TooDeep("config"));
            return;
        }

        foreach (var error in stepType.Validate(config))
            errors.Add(error.Path.Length == 0 ? $"{path}.config" : error.Path[0] == '[' ? $"{path}.config{error.Path}" : $"{path}.config.{error.Path}", error.Message);
    }

    private string KnownTypes() => $"known types: {string.Join(", ", stepTypes.All.Select(t => t.Name).Order(StringComparer.Ordinal))}";

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdSyntax();
}
