using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Fluid;
using Fluid.Ast;
using Fluid.Parser;
using Fluid.Values;

namespace Triggers.Modular.Executions.Contracts.Templates;

/// <summary>
/// Renders the Liquid templates in step configs (<c>"{{ trigger.customer_id }}"</c>) against an execution's context.
/// <para>
/// <b>Context.</b> The context is a JSON object; each of its members is a top-level Liquid variable (<c>trigger</c>,
/// <c>event</c>, <c>steps</c>, <c>execution</c>, <c>tenant</c>, <c>environment</c>). JSON objects are Liquid dictionaries
/// (<c>{{ steps.a.output.name }}</c>, <c>{{ trigger["odd key"] }}</c>), arrays are Liquid arrays (<c>{{ items[0] }}</c>,
/// <c>{{ items | size }}</c>, <c>{{ items.first }}</c>), numbers are decimals, booleans are booleans and <c>null</c> is
/// <c>nil</c>. A missing variable renders as empty text, as in Liquid. Output is not HTML-encoded. Numbers and dates format
/// with the invariant culture; the template time zone is UTC.
/// </para>
/// <para>
/// <b>Limits.</b> A template runs at most <see cref="MaxSteps"/> statements and nests includes at most
/// <see cref="MaxRecursion"/> deep; a range <c>(a..b)</c> holds at most <see cref="MaxRangeLength"/> numbers; and one call
/// produces at most <see cref="MaxRenderedCharacters"/> characters of output, captured text and assigned strings together.
/// The limits count per call: one <see cref="RenderJson"/> call shares them across all the strings it renders. Going past
/// a limit throws <see cref="TemplateRenderException"/>, so a hostile template can neither loop forever nor exhaust memory.
/// </para>
/// <para>Parsed templates are cached (up to <see cref="CacheCapacity"/> distinct templates). Thread-safe.</para>
/// </summary>
public static class TemplateRenderer
{
    public const int MaxSteps = 100_000;
    public const int MaxRecursion = 16;
    public const int MaxRangeLength = 10_000;
    public const int MaxRenderedCharacters = 1_048_576;
    public const int CacheCapacity = 1_000;

    /// <summary>How deep <see cref="RenderJson"/> walks a value (and the JSON it builds from Liquid values).</summary>
    public const int MaxJsonDepth = 128;

    // The output document can hold context values that are themselves deep; JsonDocument only needs this to re-read it.
    private const int OutputMaxDepth = 1_024;

    // FluidParser and TemplateOptions are immutable once built and safe to share; building either is costly.
    private static readonly FluidParser Parser = new();
    private static readonly TemplateOptions Options = CreateOptions();
    private static readonly ConcurrentDictionary<string, ParsedTemplate> Cache = new(StringComparer.Ordinal);

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        MaxDepth = OutputMaxDepth,
    };

    /// <summary>
    /// Renders <paramref name="template"/> to text. A string without <c>{{</c> or <c>{%</c> is returned as it is, unparsed.
    /// </summary>
    /// <exception cref="TemplateRenderException">The template does not parse, fails while rendering, or goes past a limit.</exception>
    public static string RenderString(string template, JsonElement context)
    {
        ArgumentNullException.ThrowIfNull(template);
        if (!LiquidTemplates.ContainsTemplate(template))
            return template;
        return Render(Parse(template), NewContext(context));
    }

    /// <summary>
    /// Returns a copy of <paramref name="value"/> with every string inside it (at any depth of objects and arrays) rendered;
    /// object keys are not rendered, and strings without <c>{{</c> or <c>{%</c> are copied untouched.
    /// <para>
    /// <b>Typed values.</b> A string that is exactly one output tag holding a plain path, with nothing before or after it —
    /// <c>"{{ trigger.amount }}"</c>, <c>"{{steps.a.output.items[0]}}"</c>, spaces inside the braces allowed, no filters — is
    /// replaced by the JSON value at that path with its type: a number stays a number, an object stays an object, and a
    /// path that leads nowhere gives <c>null</c>. Liquid's own properties work there too (<c>"{{ trigger.items.size }}"</c>
    /// is a number). Anything else — text around the tag, two tags, a filter (<c>"{{ trigger.amount | plus: 1 }}"</c>),
    /// a <c>{% %}</c> tag — renders to a string.
    /// </para>
    /// </summary>
    /// <exception cref="TemplateRenderException">A template does not parse, fails while rendering, or goes past a limit.</exception>
    public static JsonElement RenderJson(JsonElement value, JsonElement context)
    {
        if (value.ValueKind == JsonValueKind.Undefined)
            return value;

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            var renderer = new JsonRenderer(context);
            renderer.Write(writer, value, 0);
        }
        using var document = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = OutputMaxDepth });
        return document.RootElement.Clone();
    }

    private static TemplateOptions CreateOptions()
    {
        var options = new TemplateOptions
        {
            MaxSteps = MaxSteps,
            MaxRecursion = MaxRecursion,
            CultureInfo = CultureInfo.InvariantCulture,
            TimeZone = TimeZoneInfo.Utc,
        };
        // Strings built by assign (s = s | append: s doubling in a loop) count against the render's budget.
        options.Assigned = static (_, value, context) =>
        {
            if (value.Type == FluidValues.String)
                RenderBudget.Of(context).Charge(value.ToStringValue().Length);
            return new ValueTask<FluidValue>(value);
        };
        return options;
    }

    private static TemplateContext NewContext(JsonElement context)
    {
        var fluid = new TemplateContext(Options);
        if (context.ValueKind == JsonValueKind.Object)
        {
            foreach (var member in context.EnumerateObject())
                fluid.SetValue(member.Name, JsonFluidValues.ToFluid(member.Value));
        }
        return fluid;
    }

    private static ParsedTemplate Parse(string template)
    {
        if (Cache.TryGetValue(template, out var cached))
            return cached;

        var parsed = ParsedTemplate.From(template);
        // Bounded: when full, start over rather than track use; templates come from a limited set of definitions.
        if (Cache.Count >= CacheCapacity)
            Cache.Clear();
        Cache.TryAdd(template, parsed);
        return parsed;
    }

    private static string Render(ParsedTemplate parsed, TemplateContext fluid)
    {
        var template = parsed.Guarded ?? throw new TemplateRenderException($"The Liquid template does not parse: {parsed.Error}");
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        // Each string gets its own scope, so a variable assigned in one string of a config is not seen by the next.
        fluid.EnterChildScope();
        try
        {
            Wait(template.RenderAsync(output, NullEncoder.Default, fluid));
            return output.ToString();
        }
        catch (Exception e) when (e is not (TemplateRenderException or OutOfMemoryException))
        {
            throw Failure(e);
        }
        finally
        {
            fluid.ReleaseScope();
        }
    }

    private static FluidValue Evaluate(Expression expression, TemplateContext fluid)
    {
        try
        {
            var pending = expression.EvaluateAsync(fluid);
            return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not (TemplateRenderException or OutOfMemoryException))
        {
            throw Failure(e);
        }
    }

    // Nothing in these templates does I/O, so rendering completes synchronously; the fallback only guards against a filter
    // that does not.
    private static void Wait(ValueTask pending)
    {
        if (!pending.IsCompletedSuccessfully)
            pending.AsTask().GetAwaiter().GetResult();
    }

    private static TemplateRenderException Failure(Exception e) => e switch
    {
        TemplateLimitException limit => new TemplateRenderException($"The template went past a limit: {limit.Message}", e),
        // Fluid's own MaxSteps / MaxRecursion; its message for too many steps speaks of recursion, so say both.
        InvalidOperationException when e.Message.StartsWith("The maximum", StringComparison.Ordinal) => new TemplateRenderException(
            $"The template went past a limit: it runs more than {MaxSteps.ToString("N0", CultureInfo.InvariantCulture)} statements "
            + $"or nests includes more than {MaxRecursion} deep.", e),
        _ => new TemplateRenderException($"The template could not be rendered: {FirstLine(e.Message)}", e),
    };

    // Fluid appends "Source:" and the whole template to parse errors; the first line (with its line:column) is what helps.
    private static string FirstLine(string? message)
    {
        var line = (message ?? "").Split('\n', 2)[0].Trim();
        return line.Length == 0 ? "the template is not valid Liquid" : line;
    }

    /// <summary>A cached parse: the template as rendered (guarded), its error, and its single plain path if it is one.</summary>
    private sealed record ParsedTemplate(IFluidTemplate? Guarded, string? Error, MemberExpression? SinglePath)
    {
        public static ParsedTemplate From(string template)
        {
            if (!Parser.TryParse(template, out var parsed, out var error))
                return new ParsedTemplate(null, FirstLine(error), null);

            var singlePath = parsed is FluidTemplate { Statements: [OutputStatement { Expression: MemberExpression member }] }
                ? member
                : null;
            return new ParsedTemplate(TemplateGuard.Apply(parsed), null, singlePath);
        }
    }

    /// <summary>One <see cref="RenderJson"/> call: the Liquid context is built once, on the first template met.</summary>
    private sealed class JsonRenderer(JsonElement context)
    {
        private TemplateContext? _fluid;

        private TemplateContext Fluid => _fluid ??= NewContext(context);

        public void Write(Utf8JsonWriter writer, JsonElement value, int depth)
        {
            if (depth > MaxJsonDepth)
                throw new TemplateRenderException($"The value nests deeper than {MaxJsonDepth} levels.");

            switch (value.ValueKind)
            {
                case JsonValueKind.Object:
                    writer.WriteStartObject();
                    foreach (var member in value.EnumerateObject())
                    {
                        writer.WritePropertyName(member.Name);
                        Write(writer, member.Value, depth + 1);
                    }
                    writer.WriteEndObject();
                    break;
                case JsonValueKind.Array:
                    writer.WriteStartArray();
                    foreach (var item in value.EnumerateArray())
                        Write(writer, item, depth + 1);
                    writer.WriteEndArray();
                    break;
                case JsonValueKind.String when value.GetString() is { } text && LiquidTemplates.ContainsTemplate(text):
                    WriteTemplate(writer, text, depth);
                    break;
                default:
                    value.WriteTo(writer);
                    break;
            }
        }

        private void WriteTemplate(Utf8JsonWriter writer, string text, int depth)
        {
            var parsed = Parse(text);
            if (parsed.SinglePath is not { } path)
            {
                writer.WriteStringValue(Render(parsed, Fluid));
                return;
            }
            if (TryResolve(path, out var resolved))
                resolved.WriteTo(writer);
            else
                JsonFluidValues.Write(writer, Evaluate(path, Fluid), depth);
        }

        // The path read straight from the JSON context, keeping the value exactly as written (12.50 stays 12.50). Names are
        // object members and indices are array positions; anything else (items.size, items[-1], a variable as index) is
        // left to Liquid.
        private bool TryResolve(MemberExpression path, out JsonElement value)
        {
            value = context;
            if (value.ValueKind != JsonValueKind.Object)
                return false;
            foreach (var segment in path.Segments)
            {
                switch (segment)
                {
                    case IdentifierSegment identifier when value.ValueKind == JsonValueKind.Object
                        && value.TryGetProperty(identifier.Identifier, out var member):
                        value = member;
                        break;
                    case IndexerSegment { Expression: LiteralExpression { Value: StringValue name } } when value.ValueKind == JsonValueKind.Object
                        && value.TryGetProperty(name.ToStringValue(), out var member):
                        value = member;
                        break;
                    case IndexerSegment { Expression: LiteralExpression { Value: NumberValue number } } when value.ValueKind == JsonValueKind.Array
                        && number.ToNumberValue() is var index && index >= 0 && index < value.GetArrayLength() && index == decimal.Truncate(index):
                        value = value[(int)index];
                        break;
                    default:
                        return false;
                }
            }
            return true;
        }
    }
}
