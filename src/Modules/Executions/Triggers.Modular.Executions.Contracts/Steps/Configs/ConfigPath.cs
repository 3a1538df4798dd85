using System.Globalization;

namespace Triggers.Modular.Executions.Contracts.Steps.Configs;

/// <summary>Builds error paths relative to a step's config: <c>body.customer</c>, <c>body.items[2]</c>,
/// and <c>headers["X Bad"]</c> for keys a dotted path cannot carry.</summary>
internal static class ConfigPath
{
    public static string Property(string parent, string name)
    {
        if (IsPlain(name))
            return parent.Length == 0 ? name : parent + "." + name;
        var quoted = name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
        return parent + "[\"" + quoted + "\"]";
    }

    public static string Index(string parent, int index) =>
        parent + "[" + index.ToString(CultureInfo.InvariantCulture) + "]";

    private static bool IsPlain(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
}
