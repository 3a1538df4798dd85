using System.Text.Json;

namespace Triggers.Modular.Triggers.Webhooks;

/// <summary>A webhook trigger's config (SPEC §4) with its defaults applied; the Definitions module validated it when the
/// trigger was created or changed, so reading it here never fails.</summary>
internal sealed record WebhookConfig(string Method, string AuthType, string? HmacScheme, string ApiKeyHeader, IReadOnlyList<string> AllowedOrigins,
    string ResponseFormat, int? RateLimitPerMinute)
{
    public const string DefaultApiKeyHeader = "X-API-Key";

    public static WebhookConfig From(JsonElement config)
    {
        string? Text(string name) =>
            config.ValueKind == JsonValueKind.Object && config.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        var origins = config.ValueKind == JsonValueKind.Object && config.TryGetProperty("allowed_origins", out var o) && o.ValueKind == JsonValueKind.Array
            ? o.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToArray()
            : [];
        int? rate = config.ValueKind == JsonValueKind.Object && config.TryGetProperty("rate_limit_per_minute", out var r) && r.TryGetInt32(out var n)
            ? n
            : null;
        return new WebhookConfig(Text("method") ?? "POST", Text("auth_type") ?? "none", Text("hmac_scheme"), Text("api_key_header") ?? DefaultApiKeyHeader,
            origins, Text("response_format") ?? "json", rate);
    }

    /// <summary>Whether requests need a secret: every auth type but <c>none</c>.</summary>
    public bool UsesSecret => AuthType is "api_key" or "bearer" or "hmac";

    public bool Allows(string method) => Method == "ANY" || string.Equals(Method, method, StringComparison.OrdinalIgnoreCase);

    /// <summary>The request's <c>Origin</c> is listed (or the list holds <c>*</c>). With a list, a request without an Origin
    /// is refused: the list is a promise that only those origins call.</summary>
    public bool AllowsOrigin(string? origin) =>
        AllowedOrigins.Count == 0
        || (!string.IsNullOrEmpty(origin) && AllowedOrigins.Any(a => a == "*" || string.Equals(a, origin, StringComparison.OrdinalIgnoreCase)));
}
