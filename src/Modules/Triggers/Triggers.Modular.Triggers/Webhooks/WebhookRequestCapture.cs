using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Triggers.Modular.Triggers.Webhooks;

/// <summary>
/// What of a request the log and the execution see. Secret-bearing headers (credentials, cookies, signatures, the trigger's
/// API-key header, anything named like a token, key, secret, password, signature, auth, session or credential) and query
/// parameters named likewise keep their names with the value replaced by <c>[redacted]</c> in the log, and are left out of the execution's input altogether.
/// </summary>
internal static class WebhookRequestCapture
{
    public const string Redacted = "[redacted]";

    /// <summary>At most this many headers and query parameters are kept; each value at most <see cref="MaxValueLength"/> characters.</summary>
    public const int MaxFields = 100;

    public const int MaxValueLength = 2048;

    private static readonly HashSet<string> SecretHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", WebhookSignatures.StandardSignature, WebhookSignatures.GitHubSignature,
        "X-Hub-Signature", WebhookSignatures.PlainSignature, "X-API-Key", "Api-Key",
    };

    /// <summary>Transport headers that say nothing about the call itself; left out of the execution's input.</summary>
    private static readonly HashSet<string> TransportHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Upgrade", "Content-Length", "Accept-Encoding", "Expect", "Host",
    };

    private static readonly string[] SecretWords = ["token", "secret", "password", "passwd", "signature", "key", "auth", "session", "credential"];

    public static bool IsSecret(string name, string apiKeyHeader) =>
        SecretHeaders.Contains(name) || string.Equals(name, apiKeyHeader, StringComparison.OrdinalIgnoreCase)
        || SecretWords.Any(w => name.Contains(w, StringComparison.OrdinalIgnoreCase));

    /// <summary>Headers for the log: every header, lower-case names, secrets redacted.</summary>
    public static JsonElement LogHeaders(IHeaderDictionary headers, string apiKeyHeader) =>
        Fields(headers.Select(h => (h.Key, h.Value.ToString())), apiKeyHeader, redact: true);

    /// <summary>Headers for the execution's <c>event.headers</c>: no secrets, no transport headers.</summary>
    public static JsonElement InputHeaders(IHeaderDictionary headers, string apiKeyHeader) =>
        Fields(headers.Where(h => !TransportHeaders.Contains(h.Key)).Select(h => (h.Key, h.Value.ToString())), apiKeyHeader, redact: false);

    public static JsonElement Query(IQueryCollection query, string apiKeyHeader, bool redact) =>
        Fields(query.Select(q => (q.Key, q.Value.ToString())), apiKeyHeader, redact);

    private static JsonElement Fields(IEnumerable<(string Name, string Value)> fields, string apiKeyHeader, bool redact)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, value) in fields)
            {
                var key = name.ToLowerInvariant();
                if (seen.Count >= MaxFields || !seen.Add(key)) continue;
                if (IsSecret(name, apiKeyHeader))
                {
                    if (redact) w.WriteString(key, Redacted);
                    continue;
                }

                w.WriteString(key, value.Length <= MaxValueLength ? value : value[..MaxValueLength] + "…");
            }

            w.WriteEndObject();
        }

        return JsonDocument.Parse(buffer.WrittenMemory).RootElement.Clone();
    }

    /// <summary>The body as the log keeps it: UTF-8 text (or base64 when it is not valid UTF-8), cut at <paramref name="limit"/> bytes.</summary>
    public static (string? Body, string Encoding, bool Truncated) LogBody(ReadOnlySpan<byte> body, int limit)
    {
        if (body.IsEmpty || limit <= 0) return (null, "none", !body.IsEmpty);
        var truncated = body.Length > limit;
        var kept = truncated ? body[..limit] : body;
        if (System.Text.Unicode.Utf8.IsValid(kept)) return (Encoding.UTF8.GetString(kept), "utf8", truncated);
        // A cut may split a UTF-8 sequence: drop up to 3 trailing bytes before deciding the text is binary.
        for (var cut = 1; truncated && cut <= 3 && cut < kept.Length; cut++)
            if (System.Text.Unicode.Utf8.IsValid(kept[..^cut])) return (Encoding.UTF8.GetString(kept[..^cut]), "utf8", true);
        return (Convert.ToBase64String(kept), "base64", truncated);
    }
}
