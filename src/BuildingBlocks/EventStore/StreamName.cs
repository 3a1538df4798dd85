using System.Text.RegularExpressions;

namespace Triggers.Modular.BuildingBlocks.EventStore;

/// <summary>Stream names are <c>{category}-{id}</c>; the category is everything before the first dash.</summary>
public static partial class StreamName
{
    public const int MaxLength = 200;

    [GeneratedRegex("^[a-z][a-z0-9_]{0,62}-[A-Za-z0-9_.:@=+-]{1,190}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static string For(string category, string id)
    {
        var name = $"{category}-{id}";
        Validate(name);
        return name;
    }

    public static bool IsValid(string? name) => name is { Length: <= MaxLength } && Pattern().IsMatch(name);

    public static void Validate(string? name)
    {
        if (!IsValid(name))
            throw new InvalidAppendException(
                $"Invalid stream name '{name}': expected '{{category}}-{{id}}' where category is lower-case " +
                $"[a-z][a-z0-9_]* and id uses [A-Za-z0-9_.:@=+-], at most {MaxLength} characters.", "stream");
    }

    public static string CategoryOf(string name) => name[..name.IndexOf('-', StringComparison.Ordinal)];
}
