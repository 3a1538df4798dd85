using System.Text.Json;
using Triggers.Modular.Executions.Contracts.Steps.Configs;

namespace Triggers.Modular.Executions.Contracts.Steps.BuiltIn;

internal static class HttpHeaderRules
{
    public static void Check(JsonElement config, ConfigErrors errors)
    {
        if (!config.TryGetProperty("headers", out var headers))
            return;
        if (headers.ValueKind != JsonValueKind.Object)
        {
            errors.Add("headers", $"\"headers\" must be an object of header names to string values; got {StepConfig.Show(headers)}.");
            return;
        }
        foreach (var header in headers.EnumerateObject())
        {
            var path = ConfigPath.Property("headers", header.Name);
            if (!IsToken(header.Name))
                errors.Add(path, $"\"{header.Name}\" is not a valid HTTP header name: use letters, digits and !#$%&'*+-.^_`|~ only.");
            if (header.Value.ValueKind != JsonValueKind.String)
                errors.Add(path, $"A header value must be a string; got {StepConfig.Show(header.Value)}.");
            else if (header.Value.GetString()!.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
                errors.Add(path, "A header value must not contain line breaks or NUL characters.");
            else
                StepConfig.CheckTemplate(header.Value.GetString()!, path, errors);
        }
    }

    // RFC 9110 §5.6.2: token = 1*tchar.
    private static bool IsToken(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal));
}
