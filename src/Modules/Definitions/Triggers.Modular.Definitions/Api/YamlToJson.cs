using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Triggers.Modular.Definitions.Api;

/// <summary>
/// A YAML document as the same JSON tree (YAML 1.2 core schema for plain scalars: null, booleans, integers, floats;
/// quoted scalars stay strings). Depth and node count are bounded, so aliases cannot blow a small file up.
/// </summary>
internal static partial class YamlToJson
{
    private const int MaxDepth = 64;
    private const int MaxNodes = 200_000;

    /// <summary>Characters of scalars after alias expansion: an alias repeats its anchor's whole content.</summary>
    private const int MaxScalarChars = 512 * 1024;

    [GeneratedRegex(@"^[-+]?(0|[1-9][0-9]*)$", RegexOptions.CultureInvariant)]
    private static partial Regex Integer();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Float();

    public static JsonNode? Convert(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        if (stream.Documents.Count == 0) return null;
        if (stream.Documents.Count > 1) throw new FormatException("The YAML holds several documents ('---'); send one definition.");
        var budget = new Budget();
        return ToJson(stream.Documents[0].RootNode, 0, budget);
    }

    private sealed class Budget
    {
        public int Nodes;
        public int Chars;
    }

    private static JsonNode? ToJson(YamlNode node, int depth, Budget budget)
    {
        if (depth > MaxDepth) throw new FormatException($"The YAML nests deeper than {MaxDepth} levels.");
        if (++budget.Nodes > MaxNodes) throw new FormatException($"The YAML expands to more than {MaxNodes} nodes (aliases included).");
        if (IsString(node) is false && node is YamlScalarNode)
            throw new FormatException($"Line {node.Start.Line}: YAML tags such as '{node.Tag.Value}' are not supported; write plain values (quote strings).");
        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var (key, value) in map.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name }) throw new FormatException($"Line {key.Start.Line}: mapping keys must be plain strings.");
                    if (name == "<<") throw new FormatException($"Line {key.Start.Line}: merge keys ('<<') are not supported; write the fields out.");
                    if (obj.ContainsKey(name)) throw new FormatException($"Line {key.Start.Line}: the key '{name}' appears twice.");
                    obj[name] = ToJson(value, depth + 1, budget);
                }

                return obj;
            case YamlSequenceNode seq:
                var array = new JsonArray();
                foreach (var item in seq.Children) array.Add(ToJson(item, depth + 1, budget));
                return array;
            case YamlScalarNode scalar:
                budget.Chars += scalar.Value?.Length ?? 0;
                if (budget.Chars > MaxScalarChars)
                    throw new FormatException($"The YAML expands to more than {MaxScalarChars / 1024} KiB of values (aliases included).");
                return IsString(scalar) is true ? JsonValue.Create(scalar.Value ?? "") : Scalar(scalar);
            default:
                throw new FormatException($"Line {node.Start.Line}: unsupported YAML node.");
        }
    }

    /// <summary>null without an explicit tag; true for <c>!!str</c>; false for any other explicit tag.</summary>
    private static bool? IsString(YamlNode node) =>
        node.Tag.IsEmpty || node.Tag.IsNonSpecific ? null : node.Tag.Value == "tag:yaml.org,2002:str";

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style is not YamlDotNet.Core.ScalarStyle.Plain) return JsonValue.Create(value);
        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (Integer().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
            return JsonValue.Create(l);
        if (Float().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
            return JsonValue.Create(d);
        return JsonValue.Create(value);
    }
}
