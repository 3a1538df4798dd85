using System.Text.Json;
using System.Text.Json.Serialization;
using FluentValidation;
using FluentValidation.Results;
using Microsoft.AspNetCore.Http;
using Triggers.Modular.BuildingBlocks.Web;

namespace Triggers.Modular.Triggers.Api;

/// <summary><c>{ "workflow_id", "name", "type", "enabled", "config": { … } }</c> (SPEC §4).</summary>
internal sealed record TriggerInput(string? WorkflowId, string? Name, string? Type, bool? Enabled, JsonElement? Config);

/// <summary>
/// Reads a trigger body as strictly as a definition's (ADR 0010): duplicate keys, unknown fields (every one named) and fields
/// the server sets are refused with their paths, names are case-sensitive and numbers strict, so what is stored is exactly
/// what was validated.
/// </summary>
internal static class TriggerBody
{
    private static readonly string[] Fields = ["workflow_id", "name", "type", "enabled", "config"];

    private static readonly string[] ServerFields = ["id", "source", "tenant_id", "environment", "created_at", "updated_at"];

    private static readonly JsonSerializerOptions Strict = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            PropertyNameCaseInsensitive = false,
            NumberHandling = JsonNumberHandling.Strict,
        };
        ApiConventions.Configure(options);
        return options;
    }

    public static async Task<TriggerInput> ReadAsync(HttpRequest request, ApiOptions api, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
            throw new BadHttpRequestException("Send the body as JSON.", StatusCodes.Status415UnsupportedMediaType);

        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body,
                new JsonDocumentOptions { MaxDepth = api.MaxJsonDepth, AllowDuplicateProperties = false }, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw new BadHttpRequestException("Malformed JSON body.", StatusCodes.Status400BadRequest, e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Invalid("body", "A trigger must be a JSON object.");
            var failures = root.EnumerateObject().Select(p => p.Name).Where(n => !Fields.Contains(n, StringComparer.Ordinal))
                .Select(n => new ValidationFailure(n, ServerFields.Contains(n, StringComparer.Ordinal)
                    ? $"'{n}' is set by the server; remove it from the body."
                    : $"Unknown field; a trigger has {string.Join(", ", Fields)}.") { CustomState = FieldPath.Verbatim })
                .ToList();
            if (failures.Count > 0) throw new ValidationException(failures);

            try
            {
                return root.Deserialize<TriggerInput>(Strict)!;
            }
            catch (JsonException e)
            {
                throw Invalid(FieldPath.FromJsonPath(e.Path), "Has the wrong type for this field: expected " + Expected(e.Path) + ".");
            }
        }
    }

    private static string Expected(string? path) => path switch
    {
        "$.enabled" => "true or false",
        _ => "a string",
    };

    private static ValidationException Invalid(string path, string message) =>
        new([new ValidationFailure(path, message) { CustomState = FieldPath.Verbatim }]);
}
