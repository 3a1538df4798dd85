using System.Globalization;
using System.Text.Json;
using Triggers.Modular.Executions.Contracts.Templates;

namespace Triggers.Modular.Executions.Contracts.Steps.Configs;

/// <summary>Checks shared by the built-in step types. Every walk is bounded by <see cref="MaxDepth"/>, checked first,
/// so a hostile config cannot recurse deeply.</summary>
internal static class StepConfig
{
    public const int MaxDepth = 32;

    /// <summary>False (with an error) when the config is not an object or nests deeper than <see cref="MaxDepth"/>.</summary>
    public static bool IsUsableObject(JsonElement config, string expectation, ConfigErrors errors)
    {
        if (config.ValueKind != JsonValueKind.Object)
        {
            errors.Add("", $"{expectation}; got {Describe(config.ValueKind)}.");
            return false;
        }
        if (FindTooDeep(config, "", 1) is { } path)
        {
            errors.Add(path, $"The config nests more than {MaxDepth} levels deep; flatten it.");
            return false;
        }
        return true;
    }

    public static void RejectUnknownKeys(JsonElement config, IReadOnlyCollection<string> known, ConfigErrors errors)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in config.EnumerateObject())
        {
            var path = ConfigPath.Property("", property.Name);
            if (!known.Contains(property.Name))
                errors.Add(path, $"Unknown key \"{property.Name}\"; allowed keys are {string.Join(", ", known)}.");
            else if (!seen.Add(property.Name))
                errors.Add(path, $"The key \"{property.Name}\" appears more than once.");
        }
    }

    /// <summary>Checks that every string inside <paramref name="value"/> that holds a Liquid template parses.</summary>
    public static void CheckTemplates(JsonElement value, string path, ConfigErrors errors)
    {
        if (errors.IsFull)
        {
            errors.MarkStopped();
            return;
        }
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                CheckTemplate(value.GetString()!, path, errors);
                break;
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                    CheckTemplates(property.Value, ConfigPath.Property(path, property.Name), errors);
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in value.EnumerateArray())
                    CheckTemplates(item, ConfigPath.Index(path, index++), errors);
                break;
        }
    }

    public static void CheckTemplate(string text, string path, ConfigErrors errors)
    {
        if (!LiquidTemplates.TryValidate(text, out var error))
            errors.Add(path, $"The Liquid template does not parse: {error}");
    }

    /// <summary>Reads an optional whole number in [min, max]; adds an error and returns null when it is not one.</summary>
    public static long? WholeNumber(JsonElement config, string key, long min, long max, ConfigErrors errors)
    {
        if (!config.TryGetProperty(key, out var value))
            return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number >= min && number <= max)
            return number;
        errors.Add(key, $"\"{key}\" must be a whole number from {Format(min)} to {Format(max)}; got {Show(value)}.");
        return null;
    }

    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Undefined => "no config",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    /// <summary>A short rendering of a value for messages, cut so a huge value does not flood the error.</summary>
    public static string Show(JsonElement value)
    {
        if (value.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
            return Describe(value.ValueKind);
        var raw = value.GetRawText();
        return raw.Length <= 60 ? raw : raw[..57] + "...";
    }

    public static string Format(long number) => number.ToString("N0", CultureInfo.InvariantCulture);

    private static string? FindTooDeep(JsonElement value, string path, int depth)
    {
        if (value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))
            return null;
        if (depth > MaxDepth)
            return path;
        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in value.EnumerateObject())
                if (FindTooDeep(property.Value, ConfigPath.Property(path, property.Name), depth + 1) is { } found)
                    return found;
            return null;
        }
        var index = 0;
        foreach (var item in value.EnumerateArray())
            if (FindTooDeep(item, ConfigPath.Index(path, index++), depth + 1) is { } found)
                return found;
        return null;
    }
}
