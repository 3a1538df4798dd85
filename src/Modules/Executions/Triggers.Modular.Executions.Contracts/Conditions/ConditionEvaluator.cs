using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Triggers.Modular.Executions.Contracts.Conditions;

/// <summary>
/// Evaluates structured conditions — the language step <c>condition</c>s and trigger <c>conditions</c> are written in — against
/// a JSON document (an execution's context, or an event with its <c>payload</c>). Pure: no clock, no I/O, no exceptions for
/// any input; thread-safe.
/// <para>
/// <b>Shape.</b> A condition is <c>{ "all": [c, …] }</c> (every one holds; an empty list holds), <c>{ "any": [c, …] }</c>
/// (at least one holds; an empty list does not), <c>{ "not": c }</c>, or a leaf <c>{ "path": "…", "op": "…", "value": … }</c>.
/// Children are evaluated in order; <c>all</c> and <c>any</c> stop at the first child that decides them.
/// </para>
/// <para>
/// <b>Conditions that cannot be evaluated.</b> A node of another shape, an unknown op, an op without the value it needs
/// (or <c>in</c> without an array, <c>matches</c> without a string), a regular expression that does not compile or
/// times out, and nesting deeper than <see cref="MaxDepth"/> (definitions allow 64) make the node <i>invalid</i>, which
/// is not the same as false: <c>not</c> does not turn it into true, and it decides an <c>all</c> or <c>any</c> it is met
/// in, so the whole condition does not hold and <see cref="Explain"/> gives the reason. Definitions are validated when
/// saved; this is the runtime's fail-closed fallback.
/// </para>
/// <para>
/// <b>Paths.</b> Names separated by dots, each optionally followed by indices: <c>payload.plan</c>,
/// <c>steps.a.output.items[0].name</c>. A numeric segment indexes an array too (<c>items.0</c> is <c>items[0]</c>); on an
/// object it is a member name. A path that does not lead to a value — a missing member, an index past the end, a name
/// applied to an array or a scalar, or a path that is not well formed — makes the value <i>absent</i>. A JSON
/// <c>null</c> is a value, not an absence.
/// </para>
/// <para>
/// <b>Ops</b> (actual = the value at the path, expected = <c>value</c>):
/// <list type="bullet">
/// <item><c>exists</c> / <c>not_exists</c>: whether the value is present. These are the only ops that can hold on an
/// absent value: with an absent value every other op is false — <c>ne</c> and <c>not_in</c> included, so
/// <c>{ "path": "payload.plan", "op": "ne", "value": "pro" }</c> does not hold when there is no plan. Combine
/// <c>not_exists</c> with <c>any</c> when absence should count as "different".</item>
/// <item><c>eq</c> / <c>ne</c>: structural JSON equality — numbers by value (<c>201</c> equals <c>201.0</c> and
/// <c>2.01e2</c>), strings ordinal (case-sensitive), arrays element by element in order, objects member by member in any
/// order; values of different JSON types are never equal (<c>"201"</c> is not <c>201</c>).</item>
/// <item><c>gt</c>, <c>gte</c>, <c>lt</c>, <c>lte</c>: two numbers compare by value; two strings compare as instants when
/// both are ISO-8601 date-times with an offset (<c>2030-01-31T09:00:00Z</c>, <c>2030-01-31T10:00:00+01:00</c>), otherwise
/// ordinally; any other pair is false.</item>
/// <item><c>in</c> / <c>not_in</c>: whether the expected array holds an element equal (as <c>eq</c>) to the actual
/// value.</item>
/// <item><c>contains</c>: an actual string contains the expected string (ordinal), or an actual array has an element
/// equal to the expected value; false otherwise.</item>
/// <item><c>starts_with</c> / <c>ends_with</c>: both strings, ordinal.</item>
/// <item><c>matches</c>: the actual string matches the expected regular expression (.NET syntax, culture-invariant,
/// unanchored — use <c>^…$</c> for a whole match); false when the actual value is not a string. A match that takes
/// longer than <see cref="RegexTimeout"/> does not hold and does not throw (it is invalid, as above). Compiled patterns are
/// cached (up to <see cref="RegexCacheCapacity"/>).</item>
/// </list>
/// </para>
/// </summary>
public static partial class ConditionEvaluator
{
    /// <summary>The deepest nesting of <c>all</c> / <c>any</c> / <c>not</c> evaluated; deeper nodes do not hold.</summary>
    public const int MaxDepth = 128;

    public const int RegexCacheCapacity = 1_000;

    public static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(100);

    private const int ShownValueLength = 80;
    private const int ShownAlternatives = 3;

    private static readonly ConcurrentDictionary<string, Regex?> Regexes = new(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="condition"/> holds for <paramref name="root"/>.</summary>
    public static bool Evaluate(JsonElement condition, JsonElement root) =>
        Node(condition, root, 1, explain: false).Verdict == Verdict.Holds;

    /// <summary>Whether every condition in <paramref name="conditionsArray"/> holds (a trigger's <c>conditions</c>). An empty
    /// array, or none at all (<c>undefined</c> or <c>null</c>), holds; a value that is not an array does not.</summary>
    public static bool EvaluateAll(JsonElement conditionsArray, JsonElement root) =>
        All(conditionsArray, root, explain: false).Verdict == Verdict.Holds;

    /// <summary>Like <see cref="Evaluate"/>, with a short reason when the condition does not hold.</summary>
    public static ConditionResult Explain(JsonElement condition, JsonElement root) => ToResult(Node(condition, root, 1, explain: true));

    /// <summary>Like <see cref="EvaluateAll"/>, with the reason of the first condition that does not hold.</summary>
    public static ConditionResult ExplainAll(JsonElement conditionsArray, JsonElement root) => ToResult(All(conditionsArray, root, explain: true));

    /// <summary>
    /// A node's outcome. <see cref="Invalid"/> — a malformed node, too deep a tree, a regular expression that does not compile
    /// or times out — is not "false": <c>not</c> does not turn it into "true"; it makes the whole condition not hold.
    /// </summary>
    private enum Verdict
    {
        Holds,
        Fails,
        Invalid,
    }

    private readonly record struct Judgement(Verdict Verdict, string? Reason);

    private static readonly Judgement Held = new(Verdict.Holds, null);

    private static ConditionResult ToResult(Judgement judgement) =>
        judgement.Verdict == Verdict.Holds ? ConditionResult.True : ConditionResult.False(judgement.Reason ?? "the condition does not hold");

    private static Judgement All(JsonElement conditions, JsonElement root, bool explain)
    {
        if (conditions.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
            return Held;
        if (conditions.ValueKind != JsonValueKind.Array)
            return Invalid(explain, () => $"conditions must be an array, got {Show(conditions)}");
        foreach (var condition in conditions.EnumerateArray())
        {
            var result = Node(condition, root, 1, explain);
            if (result.Verdict != Verdict.Holds)
                return result;
        }
        return Held;
    }

    private static Judgement Node(JsonElement node, JsonElement root, int depth, bool explain)
    {
        if (depth > MaxDepth)
            return Invalid(explain, () => $"the condition nests deeper than {MaxDepth} levels");
        if (node.ValueKind != JsonValueKind.Object)
            return Invalid(explain, () => $"not a condition: {Show(node)}");

        if (node.TryGetProperty("path", out var path))
            return Leaf(node, path, root, explain);
        if (node.TryGetProperty("all", out var all))
            return AllOf(all, root, depth, explain);
        if (node.TryGetProperty("any", out var any))
            return AnyOf(any, root, depth, explain);
        if (node.TryGetProperty("not", out var not))
        {
            var inner = Node(not, root, depth + 1, explain);
            return inner.Verdict switch
            {
                Verdict.Holds => Fails(explain, () => $"not ({Describe(not)}): it held"),
                Verdict.Fails => Held,
                _ => inner,
            };
        }
        return Invalid(explain, () => $"not a condition: {Show(node)}");
    }

    private static Judgement AllOf(JsonElement children, JsonElement root, int depth, bool explain)
    {
        if (children.ValueKind != JsonValueKind.Array)
            return Invalid(explain, () => $"'all' needs an array, got {Show(children)}");
        foreach (var child in children.EnumerateArray())
        {
            var result = Node(child, root, depth + 1, explain);
            if (result.Verdict != Verdict.Holds)
                return result;
        }
        return Held;
    }

    private static Judgement AnyOf(JsonElement children, JsonElement root, int depth, bool explain)
    {
        if (children.ValueKind != JsonValueKind.Array)
            return Invalid(explain, () => $"'any' needs an array, got {Show(children)}");
        List<string>? reasons = explain ? [] : null;
        var count = 0;
        foreach (var child in children.EnumerateArray())
        {
            var result = Node(child, root, depth + 1, explain);
            if (result.Verdict != Verdict.Fails)
                return result;
            count++;
            if (reasons is not null && reasons.Count < ShownAlternatives)
                reasons.Add(result.Reason!);
        }
        if (reasons is null)
            return NotHeld;
        if (count == 0)
            return new Judgement(Verdict.Fails, "'any' has no conditions");
        var more = count > reasons.Count ? $"; and {count - reasons.Count} more" : "";
        return new Judgement(Verdict.Fails, count == 1 ? reasons[0] : $"none held: {string.Join("; ", reasons)}{more}");
    }

    private static Judgement Leaf(JsonElement node, JsonElement pathElement, JsonElement root, bool explain)
    {
        var op = node.TryGetProperty("op", out var opElement) && opElement.ValueKind == JsonValueKind.String ? opElement.GetString()! : null;
        var path = pathElement.ValueKind == JsonValueKind.String ? pathElement.GetString()! : null;
        var hasExpected = node.TryGetProperty("value", out var expected);
        if (path is null || op is null)
            return Invalid(explain, () => $"not a condition: {Show(node)}");

        var present = TryResolve(root, path, out var actual);
        if (op is "exists" or "not_exists")
        {
            return present == (op == "exists")
                ? Held
                : Fails(explain, () => $"{path} {op}: {(present ? $"was {Show(actual)}" : "was missing")}");
        }

        string Subject() => hasExpected ? $"{path} {op} {Show(expected)}" : $"{path} {op}";
        if (!IsKnownOp(op))
            return Invalid(explain, () => $"{Subject()}: unknown op");
        if (!hasExpected)
            return Invalid(explain, () => $"{Subject()}: the condition has no value");
        if (op is "in" or "not_in" && expected.ValueKind != JsonValueKind.Array)
            return Invalid(explain, () => $"{Subject()}: the value is not an array");
        if (op == "matches" && expected.ValueKind != JsonValueKind.String)
            return Invalid(explain, () => $"{Subject()}: the value is not a regular expression");
        if (!present)
            return Fails(explain, () => $"{Subject()}: was missing");

        var (verdict, note) = Apply(op, actual, expected);
        return verdict == Verdict.Holds
            ? Held
            : new Judgement(verdict, explain ? $"{Subject()}: {note ?? $"was {Show(actual)}"}" : null);
    }

    private static bool IsKnownOp(string op) =>
        op is "eq" or "ne" or "gt" or "gte" or "lt" or "lte" or "in" or "not_in" or "contains" or "starts_with" or "ends_with" or "matches";

    /// <summary>Applies <paramref name="op"/> to a present value; the note, when set, replaces "was &lt;actual&gt;" in the reason.</summary>
    private static (Verdict Verdict, string? Note) Apply(string op, JsonElement actual, JsonElement expected) => op switch
    {
        "eq" => (Of(JsonElement.DeepEquals(actual, expected)), null),
        "ne" => (Of(!JsonElement.DeepEquals(actual, expected)), null),
        "gt" => (Of(Compare(actual, expected) is > 0), null),
        "gte" => (Of(Compare(actual, expected) is >= 0), null),
        "lt" => (Of(Compare(actual, expected) is < 0), null),
        "lte" => (Of(Compare(actual, expected) is <= 0), null),
        "in" => (Of(ArrayHas(expected, actual)), null),
        "not_in" => (Of(!ArrayHas(expected, actual)), null),
        "contains" => (Of(Contains(actual, expected)), null),
        "starts_with" => (Of(BothStrings(actual, expected, out var a, out var e) && a.StartsWith(e, StringComparison.Ordinal)), null),
        "ends_with" => (Of(BothStrings(actual, expected, out var a, out var e) && a.EndsWith(e, StringComparison.Ordinal)), null),
        "matches" => Matches(actual, expected.GetString()!),
        _ => (Verdict.Invalid, "unknown op"),
    };

    private static Verdict Of(bool holds) => holds ? Verdict.Holds : Verdict.Fails;

    private static bool ArrayHas(JsonElement array, JsonElement value)
    {
        foreach (var item in array.EnumerateArray())
        {
            if (JsonElement.DeepEquals(item, value))
                return true;
        }
        return false;
    }

    private static bool Contains(JsonElement actual, JsonElement expected) => actual.ValueKind switch
    {
        JsonValueKind.String => expected.ValueKind == JsonValueKind.String
            && actual.GetString()!.Contains(expected.GetString()!, StringComparison.Ordinal),
        JsonValueKind.Array => ArrayHas(actual, expected),
        _ => false,
    };

    private static bool BothStrings(JsonElement actual, JsonElement expected, out string actualText, out string expectedText)
    {
        actualText = actual.ValueKind == JsonValueKind.String ? actual.GetString()! : "";
        expectedText = expected.ValueKind == JsonValueKind.String ? expected.GetString()! : "";
        return actual.ValueKind == JsonValueKind.String && expected.ValueKind == JsonValueKind.String;
    }

    /// <summary>Orders two numbers, two date-times or two strings; null when they cannot be ordered.</summary>
    private static int? Compare(JsonElement actual, JsonElement expected)
    {
        if (actual.ValueKind == JsonValueKind.Number && expected.ValueKind == JsonValueKind.Number)
        {
            if (actual.TryGetDecimal(out var a) && expected.TryGetDecimal(out var e))
                return a.CompareTo(e);
            if (actual.TryGetDouble(out var ad) && expected.TryGetDouble(out var ed))
                return ad.CompareTo(ed);
            return null;
        }
        if (actual.ValueKind == JsonValueKind.String && expected.ValueKind == JsonValueKind.String)
        {
            var actualText = actual.GetString()!;
            var expectedText = expected.GetString()!;
            if (TryParseInstant(actualText, out var actualInstant) && TryParseInstant(expectedText, out var expectedInstant))
                return actualInstant.CompareTo(expectedInstant);
            return string.CompareOrdinal(actualText, expectedText);
        }
        return null;
    }

    private static bool TryParseInstant(string text, out DateTimeOffset instant)
    {
        instant = default;
        return text.Length <= 40 && IsoDateTime().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out instant);
    }

    private static (Verdict Verdict, string? Note) Matches(JsonElement actual, string pattern)
    {
        var regex = CompiledRegex(pattern);
        if (regex is null)
            return (Verdict.Invalid, "the regular expression does not compile");
        if (actual.ValueKind != JsonValueKind.String)
            return (Verdict.Fails, null);
        try
        {
            return (Of(regex.IsMatch(actual.GetString()!)), null);
        }
        catch (RegexMatchTimeoutException)
        {
            return (Verdict.Invalid, $"the regular expression timed out after {RegexTimeout.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms");
        }
    }

    /// <summary>The compiled pattern, or null when it does not compile (remembered too, so it is not re-tried).</summary>
    private static Regex? CompiledRegex(string pattern)
    {
        if (Regexes.TryGetValue(pattern, out var cached))
            return cached;
        Regex? regex;
        try
        {
            regex = new Regex(pattern, RegexOptions.CultureInvariant, RegexTimeout);
        }
        catch (ArgumentException)
        {
            regex = null;
        }
        // Bounded: when full, start over; patterns come from a limited set of definitions.
        if (Regexes.Count >= RegexCacheCapacity)
            Regexes.Clear();
        Regexes.TryAdd(pattern, regex);
        return regex;
    }

    /// <summary>
    /// Follows <paramref name="path"/> from <paramref name="root"/>: <c>a.b[0][1].c</c>, <c>a.b.0</c>. False when the path
    /// is not well formed or does not lead to a value.
    /// </summary>
    internal static bool TryResolve(JsonElement root, string path, out JsonElement value)
    {
        value = root;
        if (path.Length == 0)
            return false;
        var i = 0;
        while (true)
        {
            // A name (or numeric segment) up to '.', '[' or the end.
            var start = i;
            while (i < path.Length && path[i] is not ('.' or '['))
                i++;
            if (i == start)
                return false;
            if (!Step(ref value, path.AsSpan(start, i - start)))
                return false;

            // Any number of [n] indices.
            while (i < path.Length && path[i] == '[')
            {
                var close = path.IndexOf(']', i + 1);
                if (close < 0 || !TryIndex(path.AsSpan(i + 1, close - i - 1), out var index)
                    || value.ValueKind != JsonValueKind.Array || index >= value.GetArrayLength())
                    return false;
                value = value[index];
                i = close + 1;
            }

            if (i == path.Length)
                return true;
            if (path[i] != '.')
                return false;
            i++;
        }
    }

    private static bool Step(ref JsonElement value, ReadOnlySpan<char> segment)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object when value.TryGetProperty(segment, out var member):
                value = member;
                return true;
            case JsonValueKind.Array when TryIndex(segment, out var index) && index < value.GetArrayLength():
                value = value[index];
                return true;
            default:
                return false;
        }
    }

    private static bool TryIndex(ReadOnlySpan<char> text, out int index)
    {
        index = 0;
        if (text.Length is 0 or > 9)
            return false;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
                return false;
            index = (index * 10) + (c - '0');
        }
        return true;
    }

    private static Judgement Fails(bool explain, Func<string> reason) => explain ? new(Verdict.Fails, reason()) : NotHeld;

    private static Judgement Invalid(bool explain, Func<string> reason) => new(Verdict.Invalid, explain ? reason() : null);

    private static readonly Judgement NotHeld = new(Verdict.Fails, null);

    private static readonly string[] ListKinds = ["all", "any"];

    /// <summary>A one-line name for a condition node, for "not (…): it held".</summary>
    private static string Describe(JsonElement node)
    {
        if (node.ValueKind != JsonValueKind.Object)
            return Show(node);
        if (node.TryGetProperty("path", out var path) && path.ValueKind == JsonValueKind.String)
        {
            var op = node.TryGetProperty("op", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : "?";
            return node.TryGetProperty("value", out var value) ? $"{path.GetString()} {op} {Show(value)}" : $"{path.GetString()} {op}";
        }
        foreach (var kind in ListKinds)
        {
            if (node.TryGetProperty(kind, out var list) && list.ValueKind == JsonValueKind.Array)
                return $"{kind} of {list.GetArrayLength()} condition{(list.GetArrayLength() == 1 ? "" : "s")}";
        }
        return node.TryGetProperty("not", out var inner) ? $"not ({Describe(inner)})" : Show(node);
    }

    /// <summary>A value as compact JSON, clipped.</summary>
    private static string Show(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Undefined)
            return "nothing";
        var text = value.GetRawText();
        if (text.Length <= ShownValueLength && text.IndexOfAny(['\n', '\r']) < 0)
            return text;
        var builder = new StringBuilder(ShownValueLength + 1);
        foreach (var c in text)
        {
            if (builder.Length >= ShownValueLength)
                break;
            if (c is '\n' or '\r' or '\t')
            {
                if (builder.Length > 0 && builder[^1] != ' ')
                    builder.Append(' ');
                continue;
            }
            builder.Append(c);
        }
        return text.Length > ShownValueLength ? builder.Append('…').ToString() : builder.ToString();
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDateTime();
}
