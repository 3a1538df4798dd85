using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using FluentValidation;
using FluentValidation.Results;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Triggers.Modular.BuildingBlocks.Web;
using Triggers.Modular.Definitions.Model;
using BadHttpRequestException = Microsoft.AspNetCore.Http.BadHttpRequestException;

namespace Triggers.Modular.Definitions.Api;

/// <summary>
/// Reads a definition from a request body, as JSON or as YAML (<c>application/yaml</c>, same shape): one tree, checked
/// for fields the server owns (mass assignment) and unknown fields, then bound to <see cref="DefinitionDocument"/>.
/// </summary>
internal static partial class DefinitionBody
{
    public const int MaxBytes = 512 * 1024;

    /// <summary>Fields the server sets; a body that carries them is refused rather than silently half-applied.</summary>
    private static readonly string[] ServerFields = ["id", "tenant_id", "environment", "version", "status", "created_at", "updated_at"];

    private static readonly JsonSerializerOptions Strict = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };
        ApiConventions.Configure(options);
        return options;
    }

    public static async Task<(DefinitionDocument Document, JsonElement Json)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var media = MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed) ? parsed.MediaType.Value ?? "" : "";
        var yaml = media is "application/yaml" or "application/x-yaml" or "text/yaml" or "text/x-yaml";
        var json = media == "application/json" || media.EndsWith("+json", StringComparison.Ordinal);
        if (!yaml && !json)
            throw new BadHttpRequestException("Send the definition as 'application/json' or 'application/yaml'.", StatusCodes.Status415UnsupportedMediaType);

        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var buffer = new char[MaxBytes + 1];
        var read = await reader.ReadBlockAsync(buffer.AsMemory(), cancellationToken);
        if (read > MaxBytes) throw Invalid("body", $"A definition may be at most {MaxBytes / 1024} KiB.");
        var text = new string(buffer, 0, read);

        JsonNode? node;
        try
        {
            node = yaml
                ? YamlToJson.Convert(text)
                : JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw new BadHttpRequestException("The body is not valid JSON.", StatusCodes.Status400BadRequest, ex);
        }
        catch (Exception ex) when (ex is YamlDotNet.Core.YamlException or FormatException)
        {
            throw Invalid("body", "The body is not valid YAML: " + ex.Message);
        }

        if (node is not JsonObject obj) throw Invalid("body", "A definition must be an object.");
        var failures = ServerFields.Where(obj.ContainsKey)
            .Select(f => new ValidationFailure(f, $"'{f}' is set by the server; remove it from the body.")).ToList();
        if (failures.Count > 0) throw new ValidationException(failures);

        try
        {
            var document = obj.Deserialize<DefinitionDocument>(Strict)!;
            return (document, JsonSerializer.SerializeToElement(obj));
        }
        catch (JsonException ex)
        {
            var path = FieldPath.FromJsonPath(ex.Path);
            var unknown = UnknownProperty().Match(ex.Message);
            if (unknown.Success)
            {
                var name = unknown.Groups[1].Value;
                var full = path == "body" ? name : path.EndsWith(name, StringComparison.Ordinal) ? path : $"{path}.{name}";
                throw Invalid(full, "Unknown field; check its spelling against the definition format.");
            }

            throw Invalid(path, "Has the wrong type for this field.");
        }
    }

    private static ValidationException Invalid(string path, string message) => new([new ValidationFailure(path, message)]);

    [System.Text.RegularExpressions.GeneratedRegex("The JSON property '([^']+)' could not be mapped")]
    private static partial System.Text.RegularExpressions.Regex UnknownProperty();
}
