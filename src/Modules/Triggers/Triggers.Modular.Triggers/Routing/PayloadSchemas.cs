using System.Collections.Concurrent;
using System.Text.Json;
using NJsonSchema;
using NJsonSchema.References;

namespace Triggers.Modular.Triggers.Routing;

/// <summary>Triggers' payload schemas, loaded once per distinct schema text. References outside the schema are refused
/// (they were refused when the trigger was saved too): routing never fetches a URL a tenant chose.</summary>
internal static class PayloadSchemas
{
    private const int MaxEntries = 1_000;
    private static readonly ConcurrentDictionary<string, JsonSchema> Cache = new(StringComparer.Ordinal);

    /// <summary>The payload's schema errors, each as "path: kind"; empty when it conforms.</summary>
    public static async Task<IReadOnlyList<string>> ValidateAsync(JsonElement schema, JsonElement payload, CancellationToken cancellationToken)
    {
        if (schema.ValueKind == JsonValueKind.True) return [];
        if (schema.ValueKind == JsonValueKind.False) return ["the trigger's schema is false: no payload conforms"];
        var text = schema.GetRawText();
        if (!Cache.TryGetValue(text, out var loaded))
        {
            loaded = await JsonSchema.FromJsonAsync(text, documentPath: null, root => new LocalReferencesOnly(root), cancellationToken).ConfigureAwait(false);
            if (Cache.Count >= MaxEntries) Cache.Clear();
            Cache[text] = loaded;
        }

        return [.. loaded.Validate(payload.GetRawText()).Select(e => $"{(string.IsNullOrEmpty(e.Path) ? "#" : e.Path)}: {e.Kind}")];
    }

    private sealed class LocalReferencesOnly(JsonSchema root)
        : JsonReferenceResolver(new JsonSchemaAppender(root, new DefaultTypeNameGenerator()))
    {
        public override Task<IJsonReference> ResolveFileReferenceAsync(string filePath, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException($"'$ref' to '{filePath}' points outside the schema.");

        public override Task<IJsonReference> ResolveUrlReferenceAsync(string url, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException($"'$ref' to '{url}' points outside the schema.");
    }
}
