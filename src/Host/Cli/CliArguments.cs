namespace Triggers.Modular.Host.Cli;

/// <summary>
/// <c>verb noun [positional…] [--option value | --option=value]…</c>. Tokens such as <c>--EventStore:Provider=postgres</c>
/// (a ':' in the name) are host configuration, read by the host's builder, and are skipped here.
/// </summary>
internal sealed class CliArguments
{
    private readonly Dictionary<string, string> _options = new(StringComparer.Ordinal);

    private CliArguments(List<string> positional) => Positional = positional;

    public IReadOnlyList<string> Positional { get; }

    public static CliArguments? Parse(IReadOnlyList<string> args, IReadOnlySet<string> allowedOptions)
    {
        var positional = new List<string>();
        var parsed = new CliArguments(positional);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                positional.Add(arg);
                continue;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? arg[2..] : arg[2..equals];
            if (name.Contains(':', StringComparison.Ordinal)) continue;
            if (!allowedOptions.Contains(name) || parsed._options.ContainsKey(name)) return null;
            if (equals >= 0) parsed._options[name] = arg[(equals + 1)..];
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) parsed._options[name] = args[++i];
            else return null;
        }

        return parsed;
    }

    public string? Option(string name) => _options.GetValueOrDefault(name);

    public static IReadOnlyList<string> List(string? value) =>
        value is null ? [] : [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
