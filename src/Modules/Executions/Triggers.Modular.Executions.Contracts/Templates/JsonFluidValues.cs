using System.Text.Json;
using Fluid.Values;

namespace Triggers.Modular.Executions.Contracts.Templates;

/// <summary>
/// JSON to Liquid values and back. Objects become Liquid dictionaries that convert their members only when a template
/// reads them (a context holds every step's output; a template usually reads a few fields), arrays become Liquid arrays,
/// numbers become decimals (a number outside the decimal range stays as its JSON text), <c>true</c>/<c>false</c> become
/// booleans and <c>null</c> becomes <c>nil</c>.
/// </summary>
internal static class JsonFluidValues
{
    public static FluidValue ToFluid(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => new DictionaryValue(new JsonObjectIndexable(element)),
        JsonValueKind.Array => new ArrayValue(element.EnumerateArray().Select(ToFluid).ToArray()),
        JsonValueKind.String => StringValue.Create(element.GetString()!),
        JsonValueKind.Number => element.TryGetDecimal(out var number) ? NumberValue.Create(number) : StringValue.Create(element.GetRawText()),
        JsonValueKind.True => BooleanValue.True,
        JsonValueKind.False => BooleanValue.False,
        _ => NilValue.Instance,
    };

    /// <summary>Writes a Liquid value as JSON: the inverse of <see cref="ToFluid"/>; dates and other values as their text.</summary>
    public static void Write(Utf8JsonWriter writer, FluidValue value, int depth)
    {
        if (depth > TemplateRenderer.MaxJsonDepth)
            throw new TemplateRenderException($"The template's value nests deeper than {TemplateRenderer.MaxJsonDepth} levels.");

        switch (value.Type)
        {
            case FluidValues.Nil or FluidValues.Empty or FluidValues.Blank:
                writer.WriteNullValue();
                break;
            case FluidValues.Boolean:
                writer.WriteBooleanValue(value.ToBooleanValue());
                break;
            case FluidValues.Number:
                writer.WriteNumberValue(value.ToNumberValue());
                break;
            case FluidValues.Array when value is ArrayValue array:
                writer.WriteStartArray();
                foreach (var item in array.Values)
                    Write(writer, item, depth + 1);
                writer.WriteEndArray();
                break;
            case FluidValues.Dictionary when value.ToObjectValue() is JsonObjectIndexable json:
                json.Element.WriteTo(writer);
                break;
            case FluidValues.Dictionary when value.ToObjectValue() is IFluidIndexable dictionary:
                writer.WriteStartObject();
                foreach (var key in dictionary.Keys)
                {
                    writer.WritePropertyName(key);
                    Write(writer, dictionary.TryGetValue(key, out var member) ? member : NilValue.Instance, depth + 1);
                }
                writer.WriteEndObject();
                break;
            default:
                writer.WriteStringValue(value.ToStringValue());
                break;
        }
    }

    /// <summary>A JSON object seen by Liquid; each member is converted once, the first time it is read.</summary>
    internal sealed class JsonObjectIndexable(JsonElement element) : IFluidIndexable
    {
        private Dictionary<string, FluidValue>? _members;

        public JsonElement Element => element;

        public int Count => element.GetPropertyCount();

        public IEnumerable<string> Keys => element.EnumerateObject().Select(p => p.Name).Distinct(StringComparer.Ordinal);

        public bool TryGetValue(string name, out FluidValue value)
        {
            if (_members is not null && _members.TryGetValue(name, out var known))
            {
                value = known;
                return true;
            }
            if (!element.TryGetProperty(name, out var member))
            {
                value = NilValue.Instance;
                return false;
            }
            value = ToFluid(member);
            (_members ??= new Dictionary<string, FluidValue>(StringComparer.Ordinal))[name] = value;
            return true;
        }
    }
}
