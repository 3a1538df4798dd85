using Fluid;

namespace Triggers.Modular.Executions.Contracts.Templates;

/// <summary>Checks Liquid templates (<c>{{ trigger.customer_id }}</c>) the way the runtime will parse them.</summary>
public static class LiquidTemplates
{
    // FluidParser is immutable once built and safe to share across threads; building one is costly.
    private static readonly FluidParser Parser = new();

    /// <summary>True when <paramref name="text"/> holds an output (<c>{{ }}</c>) or a tag (<c>{% %}</c>).</summary>
    public static bool ContainsTemplate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Contains("{{", StringComparison.Ordinal) || text.Contains("{%", StringComparison.Ordinal);
    }

    /// <summary>Parses <paramref name="template"/>; on failure <paramref name="error"/> is the parser's message.</summary>
    public static bool TryValidate(string template, out string? error)
    {
        ArgumentNullException.ThrowIfNull(template);
        error = null;
        if (!ContainsTemplate(template))
            return true;
        if (Parser.TryParse(template, out _, out var message))
            return true;
        error = FirstLine(message);
        return false;
    }

    // Fluid appends "Source:" and the whole template; the first line (with its line:column) is what helps.
    private static string FirstLine(string? message)
    {
        var line = (message ?? "").Split('\n', 2)[0].Trim();
        return line.Length == 0 ? "the template is not valid Liquid" : line;
    }
}
