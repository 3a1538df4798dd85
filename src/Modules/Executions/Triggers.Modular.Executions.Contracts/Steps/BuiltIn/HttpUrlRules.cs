using System.Text;
using System.Text.Json;
using Triggers.Modular.Executions.Contracts.Steps.Configs;
using Triggers.Modular.Executions.Contracts.Templates;

namespace Triggers.Modular.Executions.Contracts.Steps.BuiltIn;

internal static class HttpUrlRules
{
    private const string Example = "e.g. https://api.example.com/orders/{{ trigger.order_id }}";

    public static void Check(JsonElement config, ConfigErrors errors)
    {
        if (!config.TryGetProperty("url", out var url))
        {
            errors.Add("url", $"\"url\" is required: an absolute http or https URL, {Example}.");
            return;
        }
        if (url.ValueKind != JsonValueKind.String || url.GetString() is not { Length: > 0 } text)
        {
            errors.Add("url", $"\"url\" must be a non-empty string, {Example}; got {StepConfig.Show(url)}.");
            return;
        }
        if (text.Length > HttpStepType.MaxUrlLength)
        {
            errors.Add("url", $"\"url\" is longer than {StepConfig.Format(HttpStepType.MaxUrlLength)} characters.");
            return;
        }
        if (!LiquidTemplates.ContainsTemplate(text))
        {
            if (!IsAbsoluteHttpUrl(text))
                errors.Add("url", $"\"url\" must be an absolute http or https URL, {Example}; got \"{Shorten(text)}\".");
            return;
        }
        if (!LiquidTemplates.TryValidate(text, out var error))
        {
            errors.Add("url", $"The Liquid template does not parse: {error}");
            return;
        }
        // A URL that starts with a template takes its scheme and host from data; only the rest can be judged now.
        var startsWithTemplate = text.StartsWith("{{", StringComparison.Ordinal) || text.StartsWith("{%", StringComparison.Ordinal);
        var filled = FillTemplates(text);
        if (filled.Any(char.IsWhiteSpace))
            errors.Add("url", $"\"url\" has white space outside its templates; encode it (%20), {Example}.");
        else if (!startsWithTemplate && !IsAbsoluteHttpUrl(filled))
            errors.Add("url", $"\"url\" must start with http:// or https:// and a host (or with a template that yields them), {Example}; got \"{Shorten(text)}\".");
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";

    private static bool IsAbsoluteHttpUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.Host.Length > 0
        && text.StartsWith(uri.Scheme + "://", StringComparison.OrdinalIgnoreCase);

    /// <summary>Replaces each <c>{{ … }}</c> and <c>{% … %}</c> by a placeholder, leaving the literal parts.</summary>
    private static string FillTemplates(string text)
    {
        var result = new StringBuilder(text.Length);
        var at = 0;
        while (at < text.Length)
        {
            var open = text.IndexOf('{', at);
            if (open < 0 || open + 1 >= text.Length || text[open + 1] is not ('{' or '%'))
            {
                var end = open < 0 ? text.Length : open + 1;
                result.Append(text, at, end - at);
                at = end;
                continue;
            }
            result.Append(text, at, open - at);
            var close = text.IndexOf(text[open + 1] == '{' ? "}}" : "%}", open + 2, StringComparison.Ordinal);
            if (close < 0)
                break;
            result.Append('x');
            at = close + 2;
        }
        return result.ToString();
    }
}
