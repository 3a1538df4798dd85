using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Web;
using Triggers.Modular.Host.Observability;
using Triggers.Modular.Host.OpenApi;
using Triggers.Modular.Host.RateLimiting;

namespace Triggers.Modular.Host;

internal static class HostSetup
{
    public static WebApplicationBuilder AddTriggersHost(this WebApplicationBuilder builder)
    {
        builder.ConfigureTriggersLogging();

        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddApiConventions(configuration);
        services.AddEventStore(configuration);
        // Projections:Rebuild:BatchSize (events per transaction while a rebuild replays, default 2000), …:PageDelay, …:LockTimeout.
        services.AddSingleton(configuration.GetSection("Projections:Rebuild").Get<RebuildOptions>() ?? new RebuildOptions());
        services.AddProjections();
        services.AddMediatorPipeline();
        services.AddPlatformSecurity(configuration);
        services.AddModules(configuration);
        services.AddApiDocumentation(configuration);
        services.AddPrometheusMetrics();
        services.AddApiRateLimiting(configuration);
        services.AddHealthChecks()
            .AddCheck<EventStoreHealthCheck>("event_store", tags: ["ready"]);
        return builder;
    }

    public static WebApplication MapTriggersHost(this WebApplication app)
    {
        app.UseTriggersRequestLogging(); // outermost: logs the final status, exception-handler 500s included
        app.UsePrometheusHttpMetrics();
        app.UseApiConventions();
        app.UseAuthentication();
        app.UseApiRateLimiting(); // after authentication: partitions by the credential
        app.UseAuthorization();
        app.UseRequestContext();

        // Live: the process answers. Ready: the store answers too.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") }).AllowAnonymous();
        app.MapApiDocumentation();
        app.MapPrometheusMetrics();
        app.MapModules(app.Configuration);
        return app;
    }
}
