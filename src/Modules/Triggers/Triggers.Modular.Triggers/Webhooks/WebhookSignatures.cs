using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Triggers.Modular.Triggers.Webhooks;

/// <summary>The outcome of checking a request's credentials: <see cref="Reason"/> is a stable code for the request log
/// (<c>missing_signature</c>, <c>malformed_signature</c>, <c>bad_signature</c>, <c>timestamp_out_of_tolerance</c>…) and
/// <see cref="Detail"/> says what to fix; neither ever holds a secret or a computed signature.</summary>
internal readonly record struct AuthOutcome(bool Ok, string? Reason, string? Detail)
{
    public static AuthOutcome Success { get; } = new(true, null, null);

    public static AuthOutcome Fail(string reason, string detail) => new(false, reason, detail);
}

/// <summary>
/// Webhook request authentication (SPEC §4, issue 7), pure: the raw body bytes, the headers and the trigger's live secrets
/// in, an <see cref="AuthOutcome"/> out. HMAC-SHA256 over the raw bytes (never a re-serialisation), every comparison in
/// constant time (<see cref="CryptographicOperations.FixedTimeEquals"/>), every header parsed defensively: a malformed,
/// empty, oversized or overflowing value is a refusal with a reason, never an exception.
/// </summary>
internal static class WebhookSignatures
{
    public const string StandardId = "webhook-id";
    public const string StandardTimestamp = "webhook-timestamp";
    public const string StandardSignature = "webhook-signature";
    public const string GitHubSignature = "X-Hub-Signature-256";
    public const string PlainSignature = "X-Signature";

    /// <summary>A <c>webhook-signature</c> header may list at most this many signatures (key rotation on the sender's side
    /// needs two or three).</summary>
    public const int MaxSignatures = 32;

    /// <summary>Ids and signature headers longer than this are refused before any work.</summary>
    public const int MaxHeaderLength = 4096;

    private const int Sha256Bytes = 32;

    /// <summary>
    /// Standard Webhooks (standardwebhooks.com): <c>webhook-signature</c> holds space-separated <c>v1,&lt;base64&gt;</c>
    /// entries (other versions are passed by), each an HMAC-SHA256 of <c>{webhook-id}.{webhook-timestamp}.{body}</c> with the
    /// base64 key after <c>whsec_</c>; one match with any live secret is enough. The timestamp (Unix seconds) must lie within
    /// <paramref name="tolerance"/> of <paramref name="now"/>, either way.
    /// </summary>
    public static AuthOutcome VerifyStandard(ReadOnlySpan<byte> body, string? id, string? timestamp, string? signature, IReadOnlyList<string> secrets,
        DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signature))
            return AuthOutcome.Fail("missing_signature", $"Standard Webhooks needs the {StandardId}, {StandardTimestamp} and {StandardSignature} headers.");
        if (id.Length > MaxHeaderLength || signature.Length > MaxHeaderLength * 4)
            return AuthOutcome.Fail("malformed_signature", "A signature header is too long.");
        if (timestamp.Length > 19 || !timestamp.All(char.IsAsciiDigit) || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            return AuthOutcome.Fail("malformed_timestamp", $"{StandardTimestamp} must be Unix time in whole seconds.");
        var skew = now.ToUnixTimeSeconds() - seconds; // both non-negative: cannot overflow
        if (Math.Abs(skew) > (long)tolerance.TotalSeconds)
            return AuthOutcome.Fail("timestamp_out_of_tolerance",
                $"{StandardTimestamp} is {Math.Abs(skew)} s {(skew > 0 ? "old" : "ahead")}; at most {(long)tolerance.TotalSeconds} s either way is accepted.");

        var entries = signature.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (entries.Length > MaxSignatures)
            return AuthOutcome.Fail("malformed_signature", $"{StandardSignature} lists {entries.Length} signatures; at most {MaxSignatures} are read.");
        var provided = new List<byte[]>(entries.Length);
        foreach (var entry in entries)
        {
            var comma = entry.IndexOf(',', StringComparison.Ordinal);
            if (comma <= 0 || entry.AsSpan(0, comma) is not "v1") continue;
            var buffer = new byte[Sha256Bytes + 3];
            if (Convert.TryFromBase64String(entry[(comma + 1)..], buffer, out var written) && written == Sha256Bytes)
                provided.Add(buffer[..Sha256Bytes]);
        }

        if (provided.Count == 0)
            return AuthOutcome.Fail("malformed_signature", $"{StandardSignature} holds no v1,<base64 of 32 bytes> entry.");

        Span<byte> computed = stackalloc byte[Sha256Bytes];
        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        foreach (var secret in secrets)
        {
            if (StandardKey(secret) is not { } key) continue;
            using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
            hmac.AppendData(prefix);
            hmac.AppendData(body);
            hmac.GetHashAndReset(computed);
            foreach (var p in provided)
                if (CryptographicOperations.FixedTimeEquals(computed, p)) return AuthOutcome.Success;
        }

        return AuthOutcome.Fail("bad_signature", "No signature matches the body with this trigger's secret.");
    }

    /// <summary>GitHub style <c>X-Hub-Signature-256: sha256=&lt;hex&gt;</c> and plain <c>X-Signature: sha256=&lt;hex&gt;</c>: the
    /// HMAC-SHA256 of the body with the secret's UTF-8 bytes as the key.</summary>
    public static AuthOutcome VerifyHex(ReadOnlySpan<byte> body, string header, string? signature, IReadOnlyList<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        if (string.IsNullOrEmpty(signature)) return AuthOutcome.Fail("missing_signature", $"The {header} header is required: sha256=<hex HMAC-SHA256 of the body>.");
        var buffer = new byte[Sha256Bytes];
        if (signature.Length != 7 + 2 * Sha256Bytes || !signature.StartsWith("sha256=", StringComparison.Ordinal)
            || Convert.FromHexString(signature.AsSpan(7), buffer, out _, out var written) != System.Buffers.OperationStatus.Done || written != Sha256Bytes)
            return AuthOutcome.Fail("malformed_signature", $"{header} must be sha256= followed by 64 hex digits.");

        Span<byte> computed = stackalloc byte[Sha256Bytes];
        foreach (var secret in secrets)
        {
            HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body, computed);
            if (CryptographicOperations.FixedTimeEquals(computed, buffer)) return AuthOutcome.Success;
        }

        return AuthOutcome.Fail("bad_signature", $"{header} does not match the body with this trigger's secret.");
    }

    /// <summary>An API key or bearer token: compared as SHA-256 digests, so neither the content nor the length of a secret
    /// leaks through timing.</summary>
    public static bool MatchesToken(string? presented, IReadOnlyList<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        if (string.IsNullOrEmpty(presented) || presented.Length > MaxHeaderLength) return false;
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var match = false;
        foreach (var secret in secrets)
            match |= CryptographicOperations.FixedTimeEquals(digest, SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
        return match;
    }

    /// <summary>The key of a Standard Webhooks secret: the base64 after <c>whsec_</c> (or the whole secret without the
    /// prefix); null when it is not base64.</summary>
    public static byte[]? StandardKey(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var encoded = secret.StartsWith(WebhookSecrets.StandardPrefix, StringComparison.Ordinal) ? secret[WebhookSecrets.StandardPrefix.Length..] : secret;
        var buffer = new byte[encoded.Length];
        return Convert.TryFromBase64String(encoded, buffer, out var written) && written > 0 ? buffer[..written] : null;
    }

    /// <summary>A Standard Webhooks signature header value for <paramref name="body"/> (for senders, tests and the bench).</summary>
    public static string SignStandard(string secret, string id, long timestamp, ReadOnlySpan<byte> body)
    {
        var key = StandardKey(secret) ?? throw new ArgumentException("Not a whsec_ base64 secret.", nameof(secret));
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(Encoding.UTF8.GetBytes($"{id}.{timestamp.ToString(CultureInfo.InvariantCulture)}."));
        hmac.AppendData(body);
        return "v1," + Convert.ToBase64String(hmac.GetHashAndReset());
    }

    /// <summary><c>sha256=&lt;hex&gt;</c> for the GitHub and plain schemes.</summary>
    public static string SignHex(string secret, ReadOnlySpan<byte> body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
}
