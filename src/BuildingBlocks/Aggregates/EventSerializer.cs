using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Triggers.Modular.BuildingBlocks.EventStore;

namespace Triggers.Modular.BuildingBlocks.Aggregates;

/// <summary>Events ↔ stored JSON: snake_case System.Text.Json, upcasting older schema versions on read.</summary>
public sealed class EventSerializer(EventTypeRegistry registry)
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public EventTypeRegistry Registry => registry;

    public EventData Serialize(object @event, Guid eventId, EventMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(@event);
        var registration = registry.ForType(@event.GetType());
        return new EventData(eventId, registration.Name, JsonSerializer.Serialize(@event, registration.ClrType, Options), metadata,
            registration.SchemaVersion);
    }

    public object Deserialize(RecordedEvent recorded)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        var registration = registry.ForName(recorded.Type);
        if (recorded.SchemaVersion == registration.SchemaVersion)
            return JsonSerializer.Deserialize(recorded.Data, registration.ClrType, Options)!;
        if (recorded.SchemaVersion > registration.SchemaVersion)
            throw new InvalidOperationException(
                $"Event {recorded.EventId} of type '{recorded.Type}' has schema version {recorded.SchemaVersion}, newer than this build knows ({registration.SchemaVersion}).");

        var node = JsonNode.Parse(recorded.Data) as JsonObject
            ?? throw new InvalidOperationException($"Event {recorded.EventId} needs upcasting but its data is not a JSON object.");
        for (var v = recorded.SchemaVersion; v < registration.SchemaVersion; v++)
            node = registration.Upcasters[v](node);
        return node.Deserialize(registration.ClrType, Options)!;
    }
}
