using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Serilog;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Web;

namespace Triggers.Modular.Host;

internal static class HostSetup
{
    public static WebApplicationBuilder AddTriggersHost(this WebApplicationBuilder builder)
    {
        builder.Host.UseSerilog((context, logger) => logger
            .ReadFrom.Configuration(context.Configuration)
            .Enrich.FromLogContext()
            .WriteTo.Console());

        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddApiConventions(configuration);
        services.AddEventStore(configuration);
        services.AddProjections();
        services.AddMediatorPipeline();
        services.AddPlatformSecurity(configuration);
        services.AddModules(configuration);
        services.AddHealthChecks()
            .AddCheck<EventStoreHealthCheck>("event_store", tags: ["ready"]);
        return builder;
    }

    public static WebApplication MapTriggersHost(this WebApplication app)
    {
        app.UseApiConventions();
        app.UseAuthentication();
        app.UseRequestContext();
        app.UseAuthorization();

        // Live: the process answers. Ready: the store answers too.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") }).AllowAnonymous();
        app.MapModules(app.Configuration);
        return app;
    }
}
