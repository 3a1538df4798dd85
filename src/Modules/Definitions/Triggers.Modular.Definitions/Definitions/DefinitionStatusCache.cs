using System.Collections.Concurrent;
using Triggers.Modular.Definitions.Contracts;

namespace Triggers.Modular.Definitions.Definitions;

/// <summary>Definition statuses for <see cref="IDefinitionsModule.GetStatusAsync"/>, kept <paramref name="seconds"/> (0: off);
/// this module's handlers drop an entry as soon as they change its definition.</summary>
internal sealed class DefinitionStatusCache(double seconds, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public sealed record Entry(string TenantId, string Environment, DefinitionStatusDto Status, long LoadedAt);

    public Entry? Get(string definitionId)
    {
        if (seconds <= 0 || !_entries.TryGetValue(definitionId, out var entry)) return null;
        if (clock.GetElapsedTime(entry.LoadedAt) <= TimeSpan.FromSeconds(seconds)) return entry;
        _entries.TryRemove(new KeyValuePair<string, Entry>(definitionId, entry));
        return null;
    }

    public void Set(string definitionId, string tenantId, string environment, DefinitionStatusDto status)
    {
        if (seconds <= 0) return;
        if (_entries.Count >= 100_000) _entries.Clear(); // entries live a second: a full map is simply started again
        _entries[definitionId] = new Entry(tenantId, environment, status, clock.GetTimestamp());
    }

    public void Invalidate(string definitionId) => _entries.TryRemove(definitionId, out _);
}
