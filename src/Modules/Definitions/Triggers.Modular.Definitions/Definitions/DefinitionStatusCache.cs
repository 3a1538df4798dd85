using System.Collections.Concurrent;
using Triggers.Modular.Definitions.Contracts;

namespace Triggers.Modular.Definitions.Definitions;

/// <summary>Definition statuses for <see cref="IDefinitionsModule.GetStatusAsync"/>, kept <paramref name="seconds"/> (0: off);
/// this module's handlers drop an entry as soon as they change its definition.</summary>
internal sealed class DefinitionStatusCache(double seconds, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _generation;

    /// <summary>Take before reading the store for an entry; pass to <see cref="Set"/>.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    public sealed record Entry(string TenantId, string Environment, DefinitionStatusDto Status, long LoadedAt);

    public Entry? Get(string definitionId)
    {
        if (seconds <= 0 || !_entries.TryGetValue(definitionId, out var entry)) return null;
        if (clock.GetElapsedTime(entry.LoadedAt) <= TimeSpan.FromSeconds(seconds)) return entry;
        _entries.TryRemove(new KeyValuePair<string, Entry>(definitionId, entry));
        return null;
    }

    /// <summary>Caches the status unless a change was made through this host since <paramref name="generation"/> (a read that
    /// began before it may hold the old status).</summary>
    public void Set(string definitionId, string tenantId, string environment, DefinitionStatusDto status, long generation)
    {
        if (seconds <= 0) return;
        if (_entries.Count >= 100_000) _entries.Clear(); // entries live a second: a full map is simply started again
        var entry = new Entry(tenantId, environment, status, clock.GetTimestamp());
        _entries[definitionId] = entry;
        if (Generation != generation) _entries.TryRemove(new KeyValuePair<string, Entry>(definitionId, entry));
    }

    public void Invalidate(string definitionId)
    {
        Interlocked.Increment(ref _generation);
        _entries.TryRemove(definitionId, out _);
    }
}
