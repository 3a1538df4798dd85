using System.Text.Json.Nodes;

namespace Triggers.Modular.BuildingBlocks.Aggregates;

/// <summary>
/// Stable event type names ↔ CLR types, with the current schema version of each and the upcasters that bring an
/// older stored shape up to it. Names are never renamed; a changed shape gets a new version and an upcaster.
/// </summary>
public sealed class EventTypeRegistry
{
    private readonly Dictionary<string, Registration> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, Registration> _byType = [];

    public sealed record Registration(string Name, Type ClrType, int SchemaVersion, IReadOnlyDictionary<int, Func<JsonObject, JsonObject>> Upcasters);

    /// <summary>Registers <typeparamref name="T"/> under <paramref name="name"/> at <paramref name="schemaVersion"/>.
    /// <paramref name="upcasters"/> maps each older version v to a function producing version v + 1.</summary>
    public EventTypeRegistry Register<T>(string name, int schemaVersion = 1, IReadOnlyDictionary<int, Func<JsonObject, JsonObject>>? upcasters = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(schemaVersion, 1);
        upcasters ??= new Dictionary<int, Func<JsonObject, JsonObject>>();
        for (var v = 1; v < schemaVersion; v++)
        {
            if (!upcasters.ContainsKey(v))
                throw new ArgumentException($"Event type '{name}' is at version {schemaVersion} but has no upcaster from version {v}.", nameof(upcasters));
        }

        var registration = new Registration(name, typeof(T), schemaVersion, upcasters);
        if (_byName.ContainsKey(name))
            throw new InvalidOperationException($"Event type name '{name}' is already registered.");
        if (_byType.ContainsKey(typeof(T)))
            throw new InvalidOperationException($"CLR type {typeof(T).Name} is already registered as '{_byType[typeof(T)].Name}'.");
        _byName[name] = registration;
        _byType[typeof(T)] = registration;
        return this;
    }

    public Registration ForType(Type type) => _byType.TryGetValue(type, out var r)
        ? r
        : throw new InvalidOperationException($"CLR type {type.Name} has no registered event type name.");

    public Registration ForName(string name) => _byName.TryGetValue(name, out var r)
        ? r
        : throw new InvalidOperationException($"Event type '{name}' is not registered.");

    public bool IsRegistered(string name) => _byName.ContainsKey(name);
}
