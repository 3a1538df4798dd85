using System.Text.Json;
using System.Text.Json.Nodes;
using Triggers.Modular.BuildingBlocks.Web;
using Triggers.Modular.Definitions.Api;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.Definitions.Model;

namespace Triggers.Modular.Definitions.Validation;

/// <summary>
/// One trigger document on its own (a trigger resource of the Triggers module): bound to <see cref="TriggerDocument"/> as
/// strictly as a definition's body (exact names, strict numbers), then checked by <see cref="TriggerValidator"/> with
/// paths relative to the trigger. Every unknown field is reported, not only the first.
/// </summary>
internal static class TriggerDocumentCheck
{
    private static readonly HashSet<string> Fields = typeof(TriggerDocument).GetProperties()
        .Select(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name)).ToHashSet(StringComparer.Ordinal);

    public static IReadOnlyList<TriggerFieldError> Validate(JsonElement trigger)
    {
        if (trigger.ValueKind != JsonValueKind.Object)
            return [new TriggerFieldError("", "a trigger must be an object, such as { \"type\": \"event\", \"event_name\": \"customer.created\" }.")];

        var unknown = trigger.EnumerateObject().Select(p => p.Name).Where(n => !Fields.Contains(n)).Distinct(StringComparer.Ordinal).ToList();
        var errors = unknown.Select(n => new TriggerFieldError(n, "Unknown field; check its spelling against the trigger format of this type.")).ToList();

        TriggerDocument document;
        try
        {
            var known = new JsonObject();
            foreach (var p in trigger.EnumerateObject().Where(p => Fields.Contains(p.Name))) known[p.Name] = JsonNode.Parse(p.Value.GetRawText());
            document = known.Deserialize<TriggerDocument>(DefinitionBody.Strict)!;
        }
        catch (JsonException ex)
        {
            var path = FieldPath.FromJsonPath(ex.Path);
            errors.Add(new TriggerFieldError(path == "body" ? "" : path, "Has the wrong type for this field: expected " + Expected(ex.Message) + "."));
            return errors;
        }

        var failures = new ValidationErrors();
        TriggerValidator.Validate(document, "", failures);
        errors.AddRange(failures.Failures.Select(f => new TriggerFieldError(f.PropertyName, f.ErrorMessage)));
        return errors;
    }

    private static string Expected(string message) => message switch
    {
        _ when message.Contains("System.Int32", StringComparison.Ordinal) => "a whole number",
        _ when message.Contains("System.String", StringComparison.Ordinal) => "a string",
        _ when message.Contains("IReadOnlyList", StringComparison.Ordinal) => "a list",
        _ => "another type",
    };
}
