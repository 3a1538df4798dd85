using System.Security.Cryptography;
using System.Text;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Security;

namespace Triggers.Modular.Tenancy.Keys.Domain;

/// <summary>A freshly made token and what may be kept of it. <see cref="Token"/> goes to the caller once, nowhere else.</summary>
internal sealed record NewApiKeyToken(string KeyId, string Token, string Prefix, string TokenHash)
{
    public override string ToString() => $"NewApiKeyToken {{ KeyId = {KeyId}, Prefix = {Prefix} }}";
}

/// <summary>
/// Tokens are <c>tmk_{body}_{secret}</c>: <c>body</c> is the 26-character body of the key id (<c>key_{body}</c>), so
/// the token names its own stream; <c>secret</c> is 32 random bytes in lower-case base32 (52 characters).
/// <c>tmk_{body}</c> is the key's public prefix.
/// </summary>
internal static class ApiKeyTokens
{
    public const string KeyIdPrefix = "key";
    private const int BodyLength = 26;
    private const int SecretBytes = 32;
    private const int SecretLength = (SecretBytes * 8 + 4) / 5;
    private const string SecretAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    public static int TokenLength => ApiKeyToken.Prefix.Length + BodyLength + 1 + SecretLength;

    public static NewApiKeyToken Create(string keyId)
    {
        var prefix = PrefixOf(keyId);
        var token = prefix + "_" + PrefixedId.RandomSecret(SecretBytes);
        return new NewApiKeyToken(keyId, token, prefix, Hash(token));
    }

    public static string PrefixOf(string keyId) => ApiKeyToken.Prefix + keyId[(KeyIdPrefix.Length + 1)..];

    /// <summary>
    /// Lower-case hex SHA-256 of the whole token. A fast, unsalted hash is enough here: the secret carries 256 bits
    /// of entropy, so neither brute force nor precomputed tables can invert it; salts and slow KDFs exist for
    /// low-entropy passwords, and would only slow down every authenticated request.
    /// </summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>Strict parse: the key id when <paramref name="token"/> has the exact shape of one of ours; never throws.</summary>
    public static bool TryParse(string? token, out string keyId)
    {
        keyId = "";
        if (token is null || token.Length != TokenLength || !token.StartsWith(ApiKeyToken.Prefix, StringComparison.Ordinal)) return false;
        var separator = ApiKeyToken.Prefix.Length + BodyLength;
        if (token[separator] != '_') return false;
        var candidate = KeyIdPrefix + "_" + token[ApiKeyToken.Prefix.Length..separator];
        if (!PrefixedId.IsValid(KeyIdPrefix, candidate)) return false;
        foreach (var c in token.AsSpan(separator + 1))
            if (!SecretAlphabet.Contains(c, StringComparison.Ordinal)) return false;
        keyId = candidate;
        return true;
    }
}
