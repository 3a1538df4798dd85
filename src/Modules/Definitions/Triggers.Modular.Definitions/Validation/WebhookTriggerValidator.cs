using System.Text.RegularExpressions;
using Triggers.Modular.Definitions.Model;

namespace Triggers.Modular.Definitions.Validation;

/// <summary>Webhook triggers (SPEC §4, issue 7): methods, auth, allowed origins and the response format.</summary>
internal static partial class WebhookTriggerValidator
{
    public static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "ANY"];
    public static readonly string[] AuthTypes = ["none", "api_key", "bearer", "hmac"];
    public static readonly string[] HmacSchemes = ["standard", "github", "plain"];
    public static readonly string[] ResponseFormats = ["json", "text"];
    public const int MaxRateLimitPerMinute = 6_000_000;

    public static void Validate(TriggerDocument trigger, string path, ValidationErrors errors)
    {
        if (trigger.Method is not null && !Methods.Contains(trigger.Method, StringComparer.Ordinal))
            errors.Add(TriggerValidator.Field(path, "method"), $"unknown method '{TriggerValidator.Clip(trigger.Method)}'; one of {string.Join(", ", Methods)} (default POST).");
        if (trigger.AuthType is not null && !AuthTypes.Contains(trigger.AuthType, StringComparer.Ordinal))
            errors.Add(TriggerValidator.Field(path, "auth_type"), $"unknown auth_type '{TriggerValidator.Clip(trigger.AuthType)}'; one of {string.Join(", ", AuthTypes)} (default none).");

        if (trigger.AuthType == "hmac")
        {
            if (trigger.HmacScheme is null || !HmacSchemes.Contains(trigger.HmacScheme, StringComparer.Ordinal))
                errors.Add(TriggerValidator.Field(path, "hmac_scheme"), trigger.HmacScheme is null
                    ? $"hmac_scheme is required with auth_type hmac; one of {string.Join(", ", HmacSchemes)}."
                    : $"unknown hmac_scheme '{TriggerValidator.Clip(trigger.HmacScheme)}'; one of {string.Join(", ", HmacSchemes)}.");
        }
        else if (trigger.HmacScheme is not null)
        {
            errors.Add(TriggerValidator.Field(path, "hmac_scheme"), "hmac_scheme is only used with auth_type hmac; remove it or set auth_type to hmac.");
        }

        if (trigger.ApiKeyHeader is not null)
        {
            if (trigger.AuthType != "api_key")
                errors.Add(TriggerValidator.Field(path, "api_key_header"), "api_key_header is only used with auth_type api_key; remove it or set auth_type to api_key.");
            else if (trigger.ApiKeyHeader.Length is 0 or > DefinitionLimits.HeaderNameMaxLength || !HeaderToken().IsMatch(trigger.ApiKeyHeader))
                errors.Add(TriggerValidator.Field(path, "api_key_header"), $"'{TriggerValidator.Clip(trigger.ApiKeyHeader)}' is not a valid header name: use letters, digits and - (such as \"X-Api-Key\"), at most {DefinitionLimits.HeaderNameMaxLength} characters.");
        }

        ValidateOrigins(trigger.AllowedOrigins, TriggerValidator.Field(path, "allowed_origins"), errors);
        if (trigger.ResponseFormat is not null && !ResponseFormats.Contains(trigger.ResponseFormat, StringComparer.Ordinal))
            errors.Add(TriggerValidator.Field(path, "response_format"), $"unknown response_format '{TriggerValidator.Clip(trigger.ResponseFormat)}'; one of {string.Join(", ", ResponseFormats)} (default json).");
        if (trigger.RateLimitPerMinute is { } limit && limit is < 1 or > MaxRateLimitPerMinute)
            errors.Add(TriggerValidator.Field(path, "rate_limit_per_minute"), $"rate_limit_per_minute must be 1 to {MaxRateLimitPerMinute:N0} (accepted requests per minute); absent uses the host's default.");
    }

    private static void ValidateOrigins(IReadOnlyList<string>? origins, string path, ValidationErrors errors)
    {
        if (origins is null) return;
        if (origins.Count > DefinitionLimits.MaxAllowedOrigins)
        {
            errors.Add(path, $"at most {DefinitionLimits.MaxAllowedOrigins} allowed_origins; there are {origins.Count}.");
            return;
        }

        for (var i = 0; i < origins.Count; i++)
            if (origins[i] is not "*" && !IsOrigin(origins[i]))
                errors.Add($"{path}[{i}]", $"{(origins[i] is null ? "null" : $"'{TriggerValidator.Clip(origins[i])}'")} is not an origin: use scheme://host[:port] with http or https and no path (such as \"https://app.example.com\"), or \"*\".");
    }

    private static bool IsOrigin(string? origin) =>
        origin is not null
        && Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && string.IsNullOrEmpty(uri.UserInfo)
        && uri.PathAndQuery == "/" && string.IsNullOrEmpty(uri.Fragment)
        && !origin.EndsWith('/') && !origin.Contains('?', StringComparison.Ordinal) && !origin.Contains('#', StringComparison.Ordinal);

    /// <summary>RFC 9110 token characters.</summary>
    [GeneratedRegex(@"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$", RegexOptions.CultureInvariant)]
    private static partial Regex HeaderToken();
}
