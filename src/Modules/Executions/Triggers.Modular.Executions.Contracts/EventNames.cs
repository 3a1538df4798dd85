using System.Text.RegularExpressions;

namespace Triggers.Modular.Executions.Contracts;

/// <summary>The syntax of event names (<c>customer.created</c>), shared by triggers and the <c>emit_event</c> step.</summary>
public static partial class EventNames
{
    public const int MaxLength = 200;

    public const string Pattern = @"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$";

    public const string SyntaxDescription =
        "lower-case dot-separated segments, each starting with a letter and holding only a-z, 0-9 and '_' "
        + "(e.g. customer.created), at most 200 characters";

    // The length check runs first, so the regex never sees more than 200 characters.
    public static bool IsValid(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxLength && Syntax().IsMatch(name);

    [GeneratedRegex(Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Syntax();
}
