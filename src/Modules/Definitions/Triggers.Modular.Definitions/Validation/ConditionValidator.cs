using System.Text.Json;

namespace Triggers.Modular.Definitions.Validation;

/// <summary>
/// Condition trees: <c>{ "all": [..] }</c>, <c>{ "any": [..] }</c>, <c>{ "not": {..} }</c> or a leaf
/// <c>{ "path": "...", "op": "...", "value": ... }</c>. Walked with an explicit stack; depth is bounded by
/// <see cref="DefinitionLimits.MaxConditionDepth"/>.
/// </summary>
internal static class ConditionValidator
{
    private const string Shape = "use exactly one of { \"all\": [...] }, { \"any\": [...] }, { \"not\": {...} } or { \"path\": ..., \"op\": ..., \"value\": ... }";

    private static readonly string[] Kinds = ["all", "any", "not", "path"];

    /// <summary>A trigger's <c>conditions</c>: an array of condition trees, all of which must hold.</summary>
    public static void ValidateList(JsonElement conditions, string path, ValidationErrors errors)
    {
        if (conditions.ValueKind != JsonValueKind.Array)
        {
            errors.Add(path, "conditions must be an array of conditions, all of which must hold: [ { \"path\": \"payload.plan\", \"op\": \"eq\", \"value\": \"pro\" } ].");
            return;
        }

        if (conditions.GetArrayLength() > DefinitionLimits.MaxConditionsPerTrigger)
        {
            errors.Add(path, $"at most {DefinitionLimits.MaxConditionsPerTrigger} conditions are allowed; this trigger has {conditions.GetArrayLength()}. Combine them with \"any\" or \"all\".");
            return;
        }

        if (!JsonDepth.IsWithin(conditions, DefinitionLimits.MaxJsonDepth))
        {
            errors.Add(path, JsonDepth.TooDeep("conditions"));
            return;
        }

        var i = 0;
        foreach (var condition in conditions.EnumerateArray()) Walk(condition, $"{path}[{i++}]", errors);
    }

    /// <summary>A step's <c>condition</c>: one condition tree.</summary>
    public static void Validate(JsonElement condition, string path, ValidationErrors errors)
    {
        if (!JsonDepth.IsWithin(condition, DefinitionLimits.MaxJsonDepth))
        {
            errors.Add(path, JsonDepth.TooDeep("condition"));
            return;
        }

        Walk(condition, path, errors);
    }

    private static void Walk(JsonElement root, string rootPath, ValidationErrors errors)
    {
        var pending = new Stack<(JsonElement Node, string Path, int Depth)>();
        pending.Push((root, rootPath, 1));
        var depthReported = false;
        while (pending.Count > 0)
        {
            var (node, path, depth) = pending.Pop();
            if (depth > DefinitionLimits.MaxConditionDepth)
            {
                if (!depthReported) errors.Add(path, $"conditions nest deeper than {DefinitionLimits.MaxConditionDepth} levels; flatten them.");
                depthReported = true;
                continue;
            }

            if (node.ValueKind != JsonValueKind.Object)
            {
                errors.Add(path, $"a condition must be an object: {Shape}.");
                continue;
            }

            var kinds = Kinds.Where(k => node.TryGetProperty(k, out _)).ToList();
            if (kinds.Count != 1)
            {
                errors.Add(path, kinds.Count == 0
                    ? $"a condition needs one of all, any, not or path; {Shape}."
                    : $"a condition has {string.Join(" and ", kinds.Select(k => $"'{k}'"))}; {Shape}.");
                continue;
            }

            var kind = kinds[0];
            if (kind == "path")
            {
                ConditionLeafValidator.Validate(node, path, errors);
                continue;
            }

            foreach (var property in node.EnumerateObject().Where(p => p.Name != kind))
                errors.Add($"{path}.{property.Name}", $"'{property.Name}' is not used in a condition with '{kind}'; remove it.");

            var child = node.GetProperty(kind);
            if (kind == "not")
            {
                if (child.ValueKind != JsonValueKind.Object) errors.Add($"{path}.not", "'not' takes one condition object: { \"not\": { \"path\": ..., \"op\": ..., \"value\": ... } }.");
                else pending.Push((child, $"{path}.not", depth + 1));
                continue;
            }

            if (child.ValueKind != JsonValueKind.Array || child.GetArrayLength() == 0)
            {
                errors.Add($"{path}.{kind}", $"'{kind}' takes a non-empty array of conditions.");
                continue;
            }

            var items = child.EnumerateArray().ToList();
            for (var i = items.Count - 1; i >= 0; i--) pending.Push((items[i], $"{path}.{kind}[{i}]", depth + 1));
        }
    }
}
