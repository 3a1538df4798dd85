using System.Text.Json;
using NJsonSchema;
using NJsonSchema.References;

namespace Triggers.Modular.Definitions.Validation;

/// <summary>
/// An event trigger's payload <c>schema</c> must itself be a JSON Schema NJsonSchema can load. References outside the
/// document (<c>"$ref": "https://…"</c>, files) are refused: loading them would make the server fetch URLs a tenant chose.
/// </summary>
internal static class PayloadSchemaCheck
{
    public static void Validate(JsonElement schema, string path, ValidationErrors errors)
    {
        if (schema.ValueKind is JsonValueKind.True or JsonValueKind.False) return;
        if (schema.ValueKind != JsonValueKind.Object)
        {
            errors.Add(path, "schema must be a JSON Schema: an object such as { \"type\": \"object\", \"required\": [\"customer_id\"] }, or true/false.");
            return;
        }

        if (!JsonDepth.IsWithin(schema, DefinitionLimits.MaxJsonDepth))
        {
            errors.Add(path, JsonDepth.TooDeep("schema"));
            return;
        }

        if (FirstKeywordProblem(schema) is { } problem)
        {
            errors.Add(path, $"schema is not a valid JSON Schema: {problem}");
            return;
        }

        try
        {
            // No synchronization context on the server or in tests, and nothing here does real I/O (external
            // references are refused below), so the task completes without a deadlock risk.
            _ = JsonSchema.FromJsonAsync(schema.GetRawText(), documentPath: null, root => new LocalReferencesOnly(root), CancellationToken.None)
                .GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is Newtonsoft.Json.JsonException or InvalidOperationException or NotSupportedException
                                      or ArgumentException or FormatException or InvalidCastException)
        {
            var message = e.Message.Length <= 300 ? e.Message : e.Message[..300] + "…";
            errors.Add(path, $"schema is not a valid JSON Schema: {message}");
        }
    }

    /// <summary>NJsonSchema loads <c>"type": "objekt"</c> without complaint and wraps a refused reference in a vague
    /// message, so these two keywords are checked first, in every subschema (iteratively; depth is already bounded).</summary>
    private static string? FirstKeywordProblem(JsonElement root)
    {
        var pending = new Stack<(JsonElement Schema, string Pointer)>();
        pending.Push((root, "#"));
        while (pending.Count > 0)
        {
            var (schema, pointer) = pending.Pop();
            if (schema.ValueKind != JsonValueKind.Object) continue;
            foreach (var keyword in schema.EnumerateObject())
            {
                var at = $"{pointer}/{keyword.Name}";
                switch (keyword.Name)
                {
                    case "type" when !IsTypeKeyword(keyword.Value):
                        return $"'type' at {at} must be one of {string.Join(", ", TypeNames)}, or an array of them.";
                    case "$ref" when keyword.Value.ValueKind != JsonValueKind.String || !keyword.Value.GetString()!.StartsWith('#'):
                        return $"'$ref' at {at} points outside the schema; only local references (\"#/…\") are allowed.";
                    case "pattern" when keyword.Value.ValueKind != JsonValueKind.String || !CompilesSafely(keyword.Value.GetString()!):
                        return $"'pattern' at {at} is not a usable regular expression (it must compile; patterns are matched with a time limit).";
                    case "minLength" or "maxLength" or "minItems" or "maxItems" or "minProperties" or "maxProperties"
                        when keyword.Value.ValueKind != JsonValueKind.Number || !keyword.Value.TryGetInt64(out var bound) || bound < 0:
                        return $"'{keyword.Name}' at {at} must be a non-negative integer.";
                    case "patternProperties" when keyword.Value.ValueKind == JsonValueKind.Object
                        && keyword.Value.EnumerateObject().Select(p => p.Name).FirstOrDefault(n => !CompilesSafely(n)) is { } bad:
                        return $"'patternProperties' key '{bad}' at {at} is not a usable regular expression.";
                    case "properties" or "patternProperties" or "definitions" or "$defs" or "dependentSchemas" or "dependencies"
                        when keyword.Value.ValueKind == JsonValueKind.Object:
                        foreach (var sub in keyword.Value.EnumerateObject()) pending.Push((sub.Value, $"{at}/{sub.Name}"));
                        break;
                    case "items" or "prefixItems" or "allOf" or "anyOf" or "oneOf" when keyword.Value.ValueKind == JsonValueKind.Array:
                        var i = 0;
                        foreach (var sub in keyword.Value.EnumerateArray()) pending.Push((sub, $"{at}/{i++}"));
                        break;
                    case "items" or "not" or "additionalProperties" or "additionalItems" or "contains" or "if" or "then" or "else"
                        or "propertyNames" or "unevaluatedItems" or "unevaluatedProperties":
                        pending.Push((keyword.Value, at));
                        break;
                }
            }
        }

        return null;
    }

    /// <summary>Compiles with a match timeout, as payloads will be checked with one; a pattern that does not compile is refused.</summary>
    private static bool CompilesSafely(string pattern)
    {
        try
        {
            _ = new System.Text.RegularExpressions.Regex(pattern, System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromMilliseconds(100));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static readonly string[] TypeNames = ["null", "boolean", "object", "array", "number", "string", "integer"];

    private static bool IsTypeKeyword(JsonElement type) => type.ValueKind switch
    {
        JsonValueKind.String => TypeNames.Contains(type.GetString(), StringComparer.Ordinal),
        JsonValueKind.Array => type.GetArrayLength() > 0 && type.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String && TypeNames.Contains(t.GetString(), StringComparer.Ordinal)),
        _ => false,
    };

    private sealed class LocalReferencesOnly(JsonSchema root)
        : JsonReferenceResolver(new JsonSchemaAppender(root, new DefaultTypeNameGenerator()))
    {
        public override Task<IJsonReference> ResolveFileReferenceAsync(string filePath, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException($"'$ref' to '{filePath}' points outside the schema; only local references (\"#/…\") are allowed.");

        public override Task<IJsonReference> ResolveUrlReferenceAsync(string url, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException($"'$ref' to '{url}' points outside the schema; only local references (\"#/…\") are allowed.");
    }
}
