using FluentValidation;
using Mediator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.Audit.Contracts;

namespace Triggers.Modular.Audit;

internal sealed class AuditModule : IAuditModule;

public static class AuditModuleRegistration
{
    /// <summary>Registers the module: its mediator and validators (the history API reads the event store through
    /// <c>IEventHistory</c>).</summary>
    public static IServiceCollection AddAuditModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddMediator((MediatorOptions o) =>
        {
            o.Namespace = "Triggers.Modular.Audit.Mediation";
            o.GenerateTypesAsInternal = true;
            o.ServiceLifetime = ServiceLifetime.Scoped;
            o.Assemblies = [typeof(AuditModuleRegistration)];
            o.PipelineBehaviors = [];
        });
        services.AddValidatorsFromAssembly(typeof(AuditModuleRegistration).Assembly, includeInternalTypes: true);
        services.AddSingleton<IAuditModule, AuditModule>();
        return services;
    }
}
