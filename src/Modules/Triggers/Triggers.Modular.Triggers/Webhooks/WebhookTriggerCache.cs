using System.Collections.Concurrent;
using Triggers.Modular.Triggers.Domain;

namespace Triggers.Modular.Triggers.Webhooks;

/// <summary>A webhook trigger as the receiver needs it: its folded state, its secrets with their expiry, when the entry was
/// loaded (it lives <c>CacheSeconds</c> from then) and when its secrets were last read.</summary>
internal sealed record WebhookTarget(TriggerState Trigger, IReadOnlyList<StoredSecret> Secrets, long LoadedAt, long SecretsReadAt)
{
    /// <summary>The secrets that verify at <paramref name="now"/>, newest first.</summary>
    public IReadOnlyList<string> LiveAt(DateTimeOffset now) => [.. Secrets.Where(s => s.ExpiresAt is null || s.ExpiresAt > now).Select(s => s.Secret)];
}

internal sealed record StoredSecret(string Secret, DateTimeOffset? ExpiresAt);

/// <summary>
/// Webhook targets kept for <c>Triggers:Webhooks:CacheSeconds</c> (1 s; 0 turns it off), so a busy webhook costs no trigger
/// and secret reads per request (ADR 0014). Changes made through this host (update, enable, disable, delete, rotation, a
/// definition's sync) drop the entry at once, and a read that began before such a change is not cached (a generation
/// counter); another instance's changes show within the TTL, which nothing extends. A request whose credentials fail
/// against cached secrets is checked again against freshly read secrets (at most every 100 ms per trigger), so a secret
/// rotated through another instance verifies at once.
/// </summary>
internal sealed class WebhookTriggerCache(WebhookOptions options, TimeProvider clock)
{
    private static readonly TimeSpan SecretsRereadInterval = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<string, WebhookTarget> _entries = new(StringComparer.Ordinal);
    private long _generation;

    public bool Enabled => options.CacheSeconds > 0;

    /// <summary>Take before reading the store for an entry; pass to <see cref="Set"/>.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    public WebhookTarget? Get(string triggerId)
    {
        if (!Enabled || !_entries.TryGetValue(triggerId, out var entry)) return null;
        if (clock.GetElapsedTime(entry.LoadedAt) <= TimeSpan.FromSeconds(options.CacheSeconds)) return entry;
        _entries.TryRemove(new KeyValuePair<string, WebhookTarget>(triggerId, entry));
        return null;
    }

    public WebhookTarget Create(TriggerState trigger, IReadOnlyList<StoredSecret> secrets)
    {
        var now = clock.GetTimestamp();
        return new WebhookTarget(trigger, secrets, now, now);
    }

    /// <summary>Whether the cached secrets of <paramref name="target"/> may be read again after a failed check.</summary>
    public bool MayRereadSecrets(WebhookTarget target) => clock.GetElapsedTime(target.SecretsReadAt) >= SecretsRereadInterval;

    /// <summary>The entry with freshly read secrets; its lifetime is not extended.</summary>
    public WebhookTarget WithSecrets(WebhookTarget target, IReadOnlyList<StoredSecret> secrets) =>
        target with { Secrets = secrets, SecretsReadAt = clock.GetTimestamp() };

    /// <summary>Caches <paramref name="target"/> unless something was invalidated since <paramref name="generation"/>.</summary>
    public void Set(string triggerId, WebhookTarget target, long generation)
    {
        if (!Enabled) return;
        // A bounded map: beyond 100,000 triggers the oldest half goes (entries expire within seconds anyway).
        if (_entries.Count >= 100_000)
            foreach (var stale in _entries.OrderBy(e => e.Value.LoadedAt).Take(50_000).ToList()) _entries.TryRemove(stale);
        _entries[triggerId] = target;
        // A change that landed while this entry was being read: drop it again (the change's Invalidate may have run first).
        if (Generation != generation) _entries.TryRemove(new KeyValuePair<string, WebhookTarget>(triggerId, target));
    }

    public void Invalidate(string triggerId)
    {
        Interlocked.Increment(ref _generation);
        _entries.TryRemove(triggerId, out _);
    }
}
