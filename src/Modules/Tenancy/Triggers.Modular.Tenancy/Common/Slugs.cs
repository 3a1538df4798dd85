using System.Text.RegularExpressions;

namespace Triggers.Modular.Tenancy.Common;

/// <summary>Shapes of tenant ids and environment names: lower-case slugs, safe in stream names, URLs and file names.</summary>
internal static partial class Slugs
{
    public const string TenantIdRule = "2 to 40 characters: a lower-case letter, then lower-case letters, digits or '-'";
    public const string EnvironmentRule = "1 to 30 characters: a lower-case letter, then lower-case letters, digits or '-'";

    [GeneratedRegex("^[a-z][a-z0-9-]{1,39}$", RegexOptions.CultureInvariant)]
    private static partial Regex TenantIdPattern();

    [GeneratedRegex("^[a-z][a-z0-9-]{0,29}$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvironmentPattern();

    public static bool IsTenantId(string? value) => value is not null && TenantIdPattern().IsMatch(value);

    public static bool IsEnvironment(string? value) => value is not null && EnvironmentPattern().IsMatch(value);
}
