using FluentValidation;
using Mediator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Triggers.Contracts;
using Triggers.Modular.Triggers.Events;
using Triggers.Modular.Triggers.ReadModel;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Triggers.Routing;
using Triggers.Modular.Triggers.Steps;
using Triggers.Modular.Triggers.Sync;
using Triggers.Modular.Triggers.Webhooks;

namespace Triggers.Modular.Triggers;

internal sealed class TriggersModule : ITriggersModule;

public static class TriggersModuleRegistration
{
    /// <summary>Registers the module: its mediator, event types, the triggers read model, the event processors that keep
    /// definitions' declared triggers and route accepted events, the <c>emit_event</c> step handler, and the events
    /// API's options (<c>Triggers:Events</c>), the webhook receiver with its secrets, limits and request log
    /// (<c>Triggers:Webhooks</c>).</summary>
    public static IServiceCollection AddTriggersModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddMediator((MediatorOptions o) =>
        {
            o.Namespace = "Triggers.Modular.Triggers.Mediation";
            o.GenerateTypesAsInternal = true;
            o.ServiceLifetime = ServiceLifetime.Scoped;
            o.Assemblies = [typeof(TriggersModuleRegistration)];
            o.PipelineBehaviors = [];
        });
        services.AddValidatorsFromAssembly(typeof(TriggersModuleRegistration).Assembly, includeInternalTypes: true);
        services.AddEventTypes(r => ScheduleEventTypes.Register(WebhookEventTypes.Register(TriggerEventTypes.Register(EventEventTypes.Register(r)))));
        services.TryAddSingleton(TimeProvider.System);
        var options = new EventOptions();
        configuration.GetSection("Triggers:Events").Bind(options);
        services.AddSingleton(options);
        var webhooks = new WebhookOptions();
        configuration.GetSection("Triggers:Webhooks").Bind(webhooks);
        if (webhooks.MaxBodyBytes < 1 || webhooks.LogBodyBytes < 0 || webhooks.DefaultRateLimitPerMinute < 1 || webhooks.TimestampToleranceSeconds < 1
            || webhooks.DefaultRotationOverlapSeconds < 0 || webhooks.MaxRotationOverlapSeconds < webhooks.DefaultRotationOverlapSeconds)
            throw new InvalidOperationException("Triggers:Webhooks: MaxBodyBytes, DefaultRateLimitPerMinute and TimestampToleranceSeconds must be at " +
                "least 1, LogBodyBytes and DefaultRotationOverlapSeconds at least 0, MaxRotationOverlapSeconds at least DefaultRotationOverlapSeconds.");
        services.AddSingleton(webhooks);
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<WebhookRateLimits>();
        services.AddSingleton<WebhookTriggerCache>();
        services.AddSingleton<WebhookUrls>();
        services.AddSingleton(new BuildingBlocks.Web.OwnBodyLimit(WebhookUrls.RoutePrefix)); // the receiver reads within MaxBodyBytes
        services.AddScoped<WebhookReceiver>();
        services.AddProjection<WebhookLogProjection>();
        services.AddProjection<SchedulesProjection>();
        var schedules = new Schedules.ScheduleOptions();
        configuration.GetSection("Triggers:Schedules").Bind(schedules);
        services.AddSingleton(schedules);
        services.AddSingleton<Schedules.ScheduleRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<Schedules.ScheduleRunner>());
        services.AddSingleton<IMigrationSource>(TriggersProjection.Migrations);
        services.AddProjection<TriggersProjection>();
        services.AddEventProcessor<DefinitionTriggerSync>();
        services.AddEventProcessor<EventDispatcher>();
        services.AddStepHandler<EmitEventStepHandler>();
        services.AddSingleton<ITriggersModule, TriggersModule>();
        return services;
    }
}
