namespace Triggers.Modular.Executions.Steps.Http;

/// <summary>
/// Settings of the <c>http</c> step, bound from <c>Executions:Http</c>. By default the step refuses loopback, private,
/// link-local, metadata and other non-public addresses; <see cref="AllowedNetworks"/> lets an operator open some of them.
/// </summary>
internal sealed class HttpStepOptions
{
    public const string SectionName = "Executions:Http";

    /// <summary>CIDR ranges (<c>10.20.0.0/16</c>, <c>::1/128</c>), single addresses (<c>127.0.0.1</c>) or exact host names
    /// (<c>localhost</c>, <c>billing.internal</c>) the step may reach although they are not public. A host name matches the
    /// URL's host exactly (case-insensitive), whatever it resolves to.</summary>
    public IList<string> AllowedNetworks { get; } = new List<string>();

    /// <summary>The largest response body read; a larger one fails the step with <c>response_too_large</c>.</summary>
    public int MaxResponseBytes { get; set; } = 1024 * 1024;

    /// <summary>The per-attempt timeout when the step's config has no <c>timeout_seconds</c>.</summary>
    public int DefaultTimeoutSeconds { get; set; } = 30;

    /// <summary>How many redirects one attempt follows; 0 follows none.</summary>
    public int MaxRedirects { get; set; } = 5;

    /// <summary>Sent as <c>User-Agent</c> unless the step sets one; empty sends none.</summary>
    public string UserAgent { get; set; } = "Triggers.Modular/1.0";
}
