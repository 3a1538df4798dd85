using System.Security.Cryptography;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.Tenancy.Common;
using Triggers.Modular.Tenancy.Keys.Domain;

namespace Triggers.Modular.Tenancy.Keys.Authentication;

/// <summary>
/// Checks a bearer API key against its own stream (<c>apikey-{key_id}</c>, named by the token), not the read model:
/// a key works the moment it is issued and stops the moment it is revoked (on other instances, within the cache TTL).
/// Anything malformed, unknown, revoked or with the wrong secret yields null, never an exception.
/// </summary>
internal sealed class ApiKeyValidator(CommandHandler handler, ApiKeyCache cache) : IApiKeyValidator
{
    public async ValueTask<ApiKeyIdentity?> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        if (!ApiKeyTokens.TryParse(token, out var keyId)) return null;
        var hash = ApiKeyTokens.Hash(token);
        if (cache.TryGet(hash, out var cached)) return cached;
        if (cache.IsRejected(hash)) return null;

        var (key, _) = await handler.LoadAsync(ApiKeyDecider.Instance, Streams.ApiKey(keyId), cancellationToken);
        if (!key.Exists || key.IsRevoked || !HashesEqual(key.TokenHash, hash))
        {
            cache.Reject(hash);
            return null;
        }

        var identity = new ApiKeyIdentity(key.KeyId!, key.TenantId, key.Environment, key.Permissions);
        cache.Add(hash, identity);
        return identity;
    }

    private static bool HashesEqual(string storedHex, string presentedHex) =>
        storedHex.Length == presentedHex.Length
        && CryptographicOperations.FixedTimeEquals(Convert.FromHexString(storedHex), Convert.FromHexString(presentedHex));
}
