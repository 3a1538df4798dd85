using System.Collections.Concurrent;
using System.Threading.RateLimiting;

namespace Triggers.Modular.Triggers.Webhooks;

/// <summary>
/// Per-trigger limits on authenticated requests: a sliding one-minute window (six 10-second segments) of
/// <c>rate_limit_per_minute</c> permits, or the host's default. Counted per host instance: with N instances behind a
/// balancer a trigger may receive up to N times its limit. Limiters replenish when asked (no timer per trigger).
/// </summary>
internal sealed class WebhookRateLimits(WebhookOptions options)
{
    private static readonly TimeSpan Segment = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, (int Limit, SlidingWindowRateLimiter Limiter)> _limiters = new(StringComparer.Ordinal);

    /// <summary>Null when the request may pass; otherwise how long to wait (the <c>Retry-After</c>).</summary>
    public TimeSpan? TryAcquire(string triggerId, int? limitPerMinute)
    {
        var limit = limitPerMinute ?? options.DefaultRateLimitPerMinute;
        // A changed limit starts a fresh window; the old limiter holds no timer, so dropping it is enough.
        var entry = _limiters.AddOrUpdate(triggerId, _ => (limit, Create(limit)), (_, old) => old.Limit == limit ? old : (limit, Create(limit)));
        entry.Limiter.TryReplenish();
        using var lease = entry.Limiter.AttemptAcquire();
        if (lease.IsAcquired) return null;
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) && wait > TimeSpan.Zero ? wait : Segment;
    }

    public void Forget(string triggerId) => _limiters.TryRemove(triggerId, out _);

    private static SlidingWindowRateLimiter Create(int limit) => new(new SlidingWindowRateLimiterOptions
    {
        PermitLimit = limit,
        Window = TimeSpan.FromMinutes(1),
        SegmentsPerWindow = 6,
        QueueLimit = 0,
        AutoReplenishment = false,
    });
}
