using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Serilog;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Projections;

namespace Triggers.Modular.Host;

internal static class HostSetup
{
    public static WebApplicationBuilder AddTriggersHost(this WebApplicationBuilder builder)
    {
        builder.Host.UseSerilog((context, logger) => logger
            .ReadFrom.Configuration(context.Configuration)
            .Enrich.FromLogContext()
            .WriteTo.Console());

        builder.Services.AddEventStore(builder.Configuration);
        builder.Services.AddProjections();
        builder.Services.AddModules(builder.Configuration);
        builder.Services.AddHealthChecks()
            .AddCheck<EventStoreHealthCheck>("event_store", tags: ["ready"]);
        return builder;
    }

    public static WebApplication MapTriggersHost(this WebApplication app)
    {
        // Live: the process answers. Ready: the store answers too.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        return app;
    }
}
