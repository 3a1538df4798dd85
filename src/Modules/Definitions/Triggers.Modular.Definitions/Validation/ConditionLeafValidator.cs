using System.Text.Json;
using System.Text.RegularExpressions;

namespace Triggers.Modular.Definitions.Validation;

/// <summary>A leaf condition <c>{ "path": "payload.plan", "op": "eq", "value": "pro" }</c>: the path syntax, a known op,
/// and a value that op can use.</summary>
internal static partial class ConditionLeafValidator
{
    public static readonly string[] Ops =
        ["eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "starts_with", "ends_with", "exists", "not_exists", "matches"];

    public static void Validate(JsonElement node, string path, ValidationErrors errors)
    {
        foreach (var property in node.EnumerateObject().Where(p => p.Name is not ("path" or "op" or "value")))
            errors.Add($"{path}.{property.Name}", $"unknown field '{property.Name}'; a condition with 'path' has only 'op' and 'value'.");

        var fieldPath = node.GetProperty("path");
        if (fieldPath.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(fieldPath.GetString()))
            errors.Add($"{path}.path", "path must be a non-empty string such as \"payload.plan\" or \"steps.a.output.items[0]\".");
        else if (fieldPath.GetString()!.Length > DefinitionLimits.ConditionPathMaxLength || !PathSyntax().IsMatch(fieldPath.GetString()!))
            errors.Add($"{path}.path", $"'{TriggerValidator.Clip(fieldPath.GetString()!)}' is not a valid path: use names and indices separated by dots, such as \"payload.plan\" or \"steps.a.output.items[0]\" (at most {DefinitionLimits.ConditionPathMaxLength} characters).");

        var allowed = $"allowed ops: {string.Join(", ", Ops)}";
        if (!node.TryGetProperty("op", out var opElement))
        {
            errors.Add($"{path}.op", $"op is required; {allowed}.");
            return;
        }

        var op = opElement.ValueKind == JsonValueKind.String ? opElement.GetString() : null;
        if (op is null || !Ops.Contains(op, StringComparer.Ordinal))
        {
            errors.Add($"{path}.op", $"unknown op {(op is null ? "(not a string)" : $"'{TriggerValidator.Clip(op)}'")}; {allowed}.");
            return;
        }

        var hasValue = node.TryGetProperty("value", out var value);
        var valuePath = $"{path}.value";
        switch (op)
        {
            case "exists" or "not_exists":
                if (hasValue) errors.Add(valuePath, $"value is not used with op '{op}'; remove it.");
                return;
            case var _ when !hasValue:
                errors.Add(valuePath, $"value is required with op '{op}'.");
                return;
            case "in" or "not_in" when value.ValueKind != JsonValueKind.Array:
                errors.Add(valuePath, $"op '{op}' needs an array value, such as [\"pro\", \"team\"].");
                return;
            case "gt" or "gte" or "lt" or "lte" when value.ValueKind is not (JsonValueKind.Number or JsonValueKind.String):
                errors.Add(valuePath, $"op '{op}' compares with a number or a string (dates as ISO 8601 text).");
                return;
            case "starts_with" or "ends_with" when value.ValueKind != JsonValueKind.String:
                errors.Add(valuePath, $"op '{op}' needs a string value.");
                return;
            case "matches":
                ValidateRegex(value, valuePath, errors);
                return;
        }
    }

    private static void ValidateRegex(JsonElement value, string path, ValidationErrors errors)
    {
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(value.GetString()))
        {
            errors.Add(path, "op 'matches' needs a regular expression as a non-empty string.");
            return;
        }

        var pattern = value.GetString()!;
        if (pattern.Length > DefinitionLimits.RegexMaxLength)
        {
            errors.Add(path, $"the regular expression is longer than {DefinitionLimits.RegexMaxLength} characters.");
            return;
        }

        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
        }
        catch (ArgumentException e)
        {
            errors.Add(path, $"the regular expression does not compile: {e.Message}");
        }
    }

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_-]*(\[[0-9]+\])*(\.([A-Za-z_][A-Za-z0-9_-]*|[0-9]+)(\[[0-9]+\])*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex PathSyntax();
}
