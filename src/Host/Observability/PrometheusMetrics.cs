using Prometheus;

namespace Triggers.Modular.Host.Observability;

/// <summary>
/// Prometheus scrape endpoint at <c>/metrics</c>: HTTP request counts and latencies labelled by route template
/// (never the raw path, which would carry ids), plus every <c>System.Diagnostics.Metrics</c> meter — such as
/// <c>Triggers.Modular.EventStore</c> — through prometheus-net's meter adapter, which is on by default.
/// </summary>
public static class PrometheusMetrics
{
    public const string Route = "/metrics";

    public static IServiceCollection AddPrometheusMetrics(this IServiceCollection services)
    {
        // prometheus-net's adapter is process-wide and configured before its first collection; the runtime's
        // Private.InternalDiagnostics.* meters (msquic internals) are noise nobody dashboards.
        Metrics.ConfigureMeterAdapter(options => options.InstrumentFilterPredicate =
            instrument => !instrument.Meter.Name.StartsWith("Private.", StringComparison.Ordinal));
        services.AddHostedService<MeterAdapterStarter>();
        return services;
    }

    /// <summary>Goes after routing (implicit in a <c>WebApplication</c>) so the endpoint's route template is known.</summary>
    public static WebApplication UsePrometheusHttpMetrics(this WebApplication app)
    {
        app.UseHttpMetrics();
        return app;
    }

    public static WebApplication MapPrometheusMetrics(this WebApplication app)
    {
        app.MapMetrics(Route).AllowAnonymous();
        return app;
    }
}
