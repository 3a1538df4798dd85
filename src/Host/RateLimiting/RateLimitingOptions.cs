namespace Triggers.Modular.Host.RateLimiting;

/// <summary>The <c>RateLimiting</c> configuration section: a token bucket per credential.</summary>
internal sealed class RateLimitingOptions
{
    public const string Section = "RateLimiting";

    public bool Enabled { get; set; } = true;

    /// <summary>Tokens added to each credential's bucket every second.</summary>
    public int PermitsPerSecond { get; set; } = 1000;

    /// <summary>The bucket's size: how many requests a quiet credential may send at once.</summary>
    public int Burst { get; set; } = 2000;
}
