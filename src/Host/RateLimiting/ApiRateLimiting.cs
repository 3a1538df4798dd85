using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Web;

namespace Triggers.Modular.Host.RateLimiting;

/// <summary>
/// A global token bucket per credential (API key id, or <c>jwt:{sub}</c>); anonymous requests pass untouched, since
/// they reach nothing but health, metrics, docs and a 401. Rejections answer 429 with <c>Retry-After</c> and a
/// problem document. The partition reads the user, so <see cref="UseApiRateLimiting"/> runs after authentication.
/// </summary>
public static class ApiRateLimiting
{
    private static readonly TimeSpan ReplenishmentPeriod = TimeSpan.FromSeconds(1);

    public static IServiceCollection AddApiRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var settings = configuration.GetSection(RateLimitingOptions.Section).Get<RateLimitingOptions>() ?? new();
        if (settings.PermitsPerSecond < 1 || settings.Burst < 1)
            throw new InvalidOperationException("RateLimiting:PermitsPerSecond and RateLimiting:Burst must be at least 1.");

        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                PartitionKey(http.User) is { } key
                    ? RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = settings.Burst,
                        TokensPerPeriod = settings.PermitsPerSecond,
                        ReplenishmentPeriod = ReplenishmentPeriod,
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    })
                    : RateLimitPartition.GetNoLimiter(string.Empty));
            options.OnRejected = (context, _) => RejectAsync(context, settings);
        });
        return services;
    }

    /// <summary>Place after <c>UseAuthentication()</c> and before the endpoints; a no-op when disabled.</summary>
    public static WebApplication UseApiRateLimiting(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var enabled = app.Configuration.GetValue($"{RateLimitingOptions.Section}:{nameof(RateLimitingOptions.Enabled)}", defaultValue: true);
        if (enabled) app.UseRateLimiter();
        return app;
    }

    internal static string? PartitionKey(ClaimsPrincipal user)
    {
        if (user.Identity?.IsAuthenticated != true) return null;
        if (user.FindFirst(TenantClaims.KeyId)?.Value is { Length: > 0 } keyId) return keyId;
        // A JWT: its subject within its tenant × environment (one subject may hold tokens for several tenants).
        // The JWT handler requires "sub"; NameIdentifier covers a handler that maps it.
        var subject = user.FindFirst("sub")?.Value ?? user.FindFirst(ClaimTypes.NameIdentifier)?.Value ?? "";
        return $"jwt:{user.FindFirst(TenantClaims.Tenant)?.Value}/{user.FindFirst(TenantClaims.Environment)?.Value}/{subject}";
    }

    private static async ValueTask RejectAsync(OnRejectedContext context, RateLimitingOptions settings)
    {
        var http = context.HttpContext;
        // Every period adds at least one token, so one period is always long enough when the lease does not say.
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : ReplenishmentPeriod;
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));

        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await ProblemResponses.WriteAsync(http, StatusCodes.Status429TooManyRequests, "rate-limited", "Too many requests",
            $"This credential sent more than its limit of {settings.PermitsPerSecond} requests per second (burst {settings.Burst}). Retry after {seconds} s.");
    }
}
