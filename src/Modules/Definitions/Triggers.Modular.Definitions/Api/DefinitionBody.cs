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

    /// <summary>Exact names, strict numbers, unknown members refused; also binds a trigger resource's document (<see cref="Validation.TriggerDocumentCheck"/>).</summary>
    internal static readonly JsonSerializerOptions Strict = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        // Exact-case names and strict numbers: the tree that is stored must be exactly the one that was validated, so
        // "Steps" next to "steps", or "30" for a number, are errors rather than silently bound.
        var options = new JsonSerializerOptions
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            PropertyNameCaseInsensitive = false,
            NumberHandling = JsonNumberHandling.Strict,
        };
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

        using var bytes = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (bytes.Length + n > MaxBytes) throw TooLarge();
            bytes.Write(chunk, 0, n);
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes.GetBuffer(), 0, (int)bytes.Length);
        }
        catch (DecoderFallbackException)
        {
            throw Invalid("body", "The body is not valid UTF-8.");
        }

        JsonNode? node;
        try
        {
            node = yaml
                ? YamlToJson.Convert(text)
                : JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 64, AllowDuplicateProperties = false });
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
            // What is stored, as it will be stored: YAML aliases can make a small body large, so the limit applies here too.
            var stored = JsonSerializer.SerializeToUtf8Bytes(obj, Stored);
            if (stored.Length > MaxBytes) throw TooLarge();
            return (document, JsonSerializer.Deserialize<JsonElement>(stored));
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

            throw Invalid(path, "Has the wrong type for this field: expected " + Expected(ex.Message) + ".");
        }
    }

    private static readonly JsonSerializerOptions Stored = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static ValidationException TooLarge() => Invalid("body", $"A definition may be at most {MaxBytes / 1024} KiB (as stored, YAML aliases expanded).");

    /// <summary>The target type of System.Text.Json's conversion message, in the client's words.</summary>
    private static string Expected(string message) => message switch
    {
        _ when message.Contains("System.Int32", StringComparison.Ordinal) || message.Contains("System.Int64", StringComparison.Ordinal) => "a whole number (in YAML, unquoted)",
        _ when message.Contains("System.Double", StringComparison.Ordinal) => "a number",
        _ when message.Contains("System.Boolean", StringComparison.Ordinal) => "true or false",
        _ when message.Contains("System.String", StringComparison.Ordinal) => "a string (in YAML, quote values such as 2024 or yes)",
        _ when message.Contains("IReadOnlyList", StringComparison.Ordinal) => "a list",
        _ => "an object",
    };

    private static ValidationException Invalid(string path, string message) =>
        new([new ValidationFailure(path, message) { CustomState = FieldPath.Verbatim }]);

    [System.Text.RegularExpressions.GeneratedRegex("The JSON property '([^']+)' could not be mapped")]
    private static partial System.Text.RegularExpressions.Regex UnknownProperty();
}
