using System.Collections.Concurrent;
using Triggers.Modular.BuildingBlocks.Security;

namespace Triggers.Modular.Tenancy.Keys.Authentication;

/// <summary>
/// Keys validated recently, keyed by token hash (never the token), for <see cref="TenancyOptions.ApiKeyCacheDuration"/>.
/// A revoke on this instance evicts the key and leaves a tombstone for as long, so that a validation that read the
/// stream just before the revoke cannot put the key back.
/// </summary>
internal sealed class ApiKeyCache(TenancyOptions options, TimeProvider clock)
{
    private const int MaxEntries = 10_000;
    private readonly ConcurrentDictionary<string, (ApiKeyIdentity Identity, DateTimeOffset Expires)> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _revoked = new(StringComparer.Ordinal);

    // Tokens found invalid (unknown id, wrong secret, revoked), by hash. Safe to remember: such a token can never
    // become valid (ids and secrets are random and a revoked key stays revoked), and it spares the store a read per
    // retry of a bad token.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _rejected = new(StringComparer.Ordinal);

    public bool IsRejected(string tokenHash) => _rejected.TryGetValue(tokenHash, out var until) && until > clock.GetUtcNow();

    public void Reject(string tokenHash)
    {
        if (options.ApiKeyCacheDuration <= TimeSpan.Zero) return;
        if (_rejected.Count >= MaxEntries) Prune();
        _rejected[tokenHash] = clock.GetUtcNow() + options.ApiKeyCacheDuration;
    }

    public bool TryGet(string tokenHash, out ApiKeyIdentity identity)
    {
        identity = null!;
        if (!_entries.TryGetValue(tokenHash, out var entry)) return false;
        if (entry.Expires <= clock.GetUtcNow() || IsRevoked(entry.Identity.KeyId))
        {
            _entries.TryRemove(tokenHash, out _);
            return false;
        }

        identity = entry.Identity;
        return true;
    }

    public void Add(string tokenHash, ApiKeyIdentity identity)
    {
        if (options.ApiKeyCacheDuration <= TimeSpan.Zero || IsRevoked(identity.KeyId)) return;
        if (_entries.Count >= MaxEntries) Prune();
        _entries[tokenHash] = (identity, clock.GetUtcNow() + options.ApiKeyCacheDuration);
    }

    public void Evict(string keyId, string tokenHash)
    {
        _revoked[keyId] = clock.GetUtcNow() + options.ApiKeyCacheDuration;
        _entries.TryRemove(tokenHash, out _);
        if (_revoked.Count >= MaxEntries) Prune();
    }

    private bool IsRevoked(string keyId) => _revoked.TryGetValue(keyId, out var until) && until > clock.GetUtcNow();

    private void Prune()
    {
        var now = clock.GetUtcNow();
        foreach (var (hash, entry) in _entries)
            if (entry.Expires <= now) _entries.TryRemove(hash, out _);
        foreach (var (keyId, until) in _revoked)
            if (until <= now) _revoked.TryRemove(keyId, out _);
        foreach (var (hash, until) in _rejected)
            if (until <= now) _rejected.TryRemove(hash, out _);
        if (_rejected.Count >= MaxEntries) _rejected.Clear();
        // Still full of live entries (many distinct keys in use): start over rather than grow without bound.
        if (_entries.Count >= MaxEntries) _entries.Clear();
    }
}
