using Serilog;
using Serilog.Events;
using Triggers.Modular.BuildingBlocks.Security;

namespace Triggers.Modular.Host.Observability;

/// <summary>
/// One event per request, carrying who called (<c>tenant</c>, <c>environment</c>, <c>key_id</c>) and
/// <c>correlation_id</c>. Headers are never logged: the <c>Authorization</c> header holds a secret.
/// </summary>
public static class RequestLogging
{
    /// <summary>Set by the correlation middleware.</summary>
    public const string CorrelationIdItem = "correlation_id";

    public static WebApplication UseTriggersRequestLogging(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseSerilogRequestLogging(options =>
        {
            // The host's own logger: the static Log.Logger is not set (see TriggersLogging).
            options.Logger = app.Services.GetService<Serilog.ILogger>();
            options.IncludeQueryInRequestPath = false;
            options.GetLevel = Level;
            options.EnrichDiagnosticContext = Enrich;
        });
        return app;
    }

    private static void Enrich(IDiagnosticContext diagnostics, HttpContext http)
    {
        SetIfPresent(diagnostics, "tenant", http.User.FindFirst(TenantClaims.Tenant)?.Value);
        SetIfPresent(diagnostics, "environment", http.User.FindFirst(TenantClaims.Environment)?.Value);
        SetIfPresent(diagnostics, "key_id", http.User.FindFirst(TenantClaims.KeyId)?.Value);
        SetIfPresent(diagnostics, "correlation_id", http.Items[CorrelationIdItem] as string);
    }

    private static void SetIfPresent(IDiagnosticContext diagnostics, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value)) diagnostics.Set(name, value);
    }

    // Probes and scrapes arrive every few seconds; they stay out of the log unless Verbose is switched on.
    private static LogEventLevel Level(HttpContext http, double elapsedMs, Exception? ex) =>
        ex is not null ? LogEventLevel.Error
        : IsProbeOrScrape(http.Request.Path) ? LogEventLevel.Verbose
        : http.Response.StatusCode >= StatusCodes.Status500InternalServerError ? LogEventLevel.Error
        : LogEventLevel.Information;

    private static bool IsProbeOrScrape(PathString path) =>
        path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(PrometheusMetrics.Route, StringComparison.OrdinalIgnoreCase);
}
