namespace Triggers.Modular.Triggers.Webhooks;

/// <summary>The webhook receiver's settings (<c>Triggers:Webhooks:*</c>).</summary>
internal sealed class WebhookOptions
{
    /// <summary>A request body may be at most this large (default 1 MiB); a larger one answers 413.</summary>
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>The request log keeps at most this much of a body (default 16 KiB); the rest is cut and marked truncated.</summary>
    public int LogBodyBytes { get; set; } = 16 * 1024;

    /// <summary>Accepted requests per minute and trigger when its config sets no <c>rate_limit_per_minute</c> (default 6,000).</summary>
    public int DefaultRateLimitPerMinute { get; set; } = 6_000;

    /// <summary>How far a Standard Webhooks <c>webhook-timestamp</c> may be from the server's clock (default 300 s).</summary>
    public int TimestampToleranceSeconds { get; set; } = 300;

    /// <summary>How long the previous secret keeps verifying after a rotation that names no overlap (default 24 h).</summary>
    public int DefaultRotationOverlapSeconds { get; set; } = 24 * 3600;

    /// <summary>The longest overlap a rotation may ask for (default 30 days).</summary>
    public int MaxRotationOverlapSeconds { get; set; } = 30 * 24 * 3600;

    /// <summary>How long the receiver keeps a trigger and its secrets in memory (default 1 s; 0: read them on every request).
    /// Changes made through another host instance take effect there within this time.</summary>
    public double CacheSeconds { get; set; } = 1;

    /// <summary>Base of the <c>webhook_url</c> shown for webhook triggers, such as <c>https://hooks.example.com</c>; empty →
    /// the scheme and host of the request that asks (right behind no proxy, or a proxy that forwards Host).</summary>
    public string PublicBaseUrl { get; set; } = "";
}
