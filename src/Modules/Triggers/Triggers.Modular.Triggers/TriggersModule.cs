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

namespace Triggers.Modular.Triggers;

internal sealed class TriggersModule : ITriggersModule;

public static class TriggersModuleRegistration
{
    /// <summary>Registers the module: its mediator, event types, the triggers read model, the event processors that keep
    /// definitions' declared triggers and route accepted events, the <c>emit_event</c> step handler, and the events
    /// API's options (<c>Triggers:Events</c>).</summary>
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
        services.AddEventTypes(r => TriggerEventTypes.Register(EventEventTypes.Register(r)));
        services.TryAddSingleton(TimeProvider.System);
        var options = new EventOptions();
        configuration.GetSection("Triggers:Events").Bind(options);
        services.AddSingleton(options);
        services.AddSingleton<IMigrationSource>(TriggersProjection.Migrations);
        services.AddProjection<TriggersProjection>();
        services.AddEventProcessor<DefinitionTriggerSync>();
        services.AddEventProcessor<EventDispatcher>();
        services.AddStepHandler<EmitEventStepHandler>();
        services.AddSingleton<ITriggersModule, TriggersModule>();
        return services;
    }
}
