using System.Collections.Concurrent;
using Triggers.Modular.Triggers.Domain;

namespace Triggers.Modular.Triggers.Webhooks;

/// <summary>A webhook trigger as the receiver needs it: its folded state and its secrets with their expiry.</summary>
internal sealed record WebhookTarget(TriggerState Trigger, IReadOnlyList<StoredSecret> Secrets, long LoadedAt)
{
    /// <summary>The secrets that verify at <paramref name="now"/>, newest first.</summary>
    public IReadOnlyList<string> LiveAt(DateTimeOffset now) => [.. Secrets.Where(s => s.ExpiresAt is null || s.ExpiresAt > now).Select(s => s.Secret)];
}

internal sealed record StoredSecret(string Secret, DateTimeOffset? ExpiresAt);

/// <summary>
/// Webhook targets kept for <c>Triggers:Webhooks:CacheSeconds</c> (1 s; 0 turns it off), so a busy webhook costs no trigger
/// and secret reads per request (ADR 0014). Changes made through this host (update, enable, disable, delete, rotation, a
/// definition's sync) drop the entry at once; another instance's changes show within the TTL. A request whose credentials
/// fail against a cached entry is checked once more against a fresh read, so a secret rotated elsewhere verifies at once.
/// </summary>
internal sealed class WebhookTriggerCache(WebhookOptions options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, WebhookTarget> _entries = new(StringComparer.Ordinal);

    public bool Enabled => options.CacheSeconds > 0;

    public WebhookTarget? Get(string triggerId)
    {
        if (!Enabled || !_entries.TryGetValue(triggerId, out var entry)) return null;
        if (clock.GetElapsedTime(entry.LoadedAt) <= TimeSpan.FromSeconds(options.CacheSeconds)) return entry;
        _entries.TryRemove(new KeyValuePair<string, WebhookTarget>(triggerId, entry));
        return null;
    }

    public WebhookTarget Create(TriggerState trigger, IReadOnlyList<StoredSecret> secrets) => new(trigger, secrets, clock.GetTimestamp());

    public void Set(string triggerId, WebhookTarget target)
    {
        if (!Enabled) return;
        // A bounded map: beyond 100,000 triggers the oldest half goes (entries expire within seconds anyway).
        if (_entries.Count >= 100_000)
            foreach (var stale in _entries.OrderBy(e => e.Value.LoadedAt).Take(50_000).ToList()) _entries.TryRemove(stale);
        _entries[triggerId] = target;
    }

    public void Invalidate(string triggerId) => _entries.TryRemove(triggerId, out _);
}
