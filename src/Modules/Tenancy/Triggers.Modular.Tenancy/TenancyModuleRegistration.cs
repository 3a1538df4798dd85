using FluentValidation;
using Mediator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Tenancy.Contracts;
using Triggers.Modular.Tenancy.Facade;
using Triggers.Modular.Tenancy.Keys.Authentication;
using Triggers.Modular.Tenancy.Keys.Domain;
using Triggers.Modular.Tenancy.ReadModel;
using Triggers.Modular.Tenancy.Tenants.Domain;

namespace Triggers.Modular.Tenancy;

public static class TenancyModuleRegistration
{
    /// <summary>
    /// Tenants, environments and API keys: the module's own mediator (handlers stay internal; the pipeline behaviours
    /// come from the host's <c>AddMediatorPipeline</c>), validators, event types, read model, the
    /// <see cref="IApiKeyValidator"/> the API's authentication uses, and the <see cref="ITenancyModule"/> facade.
    /// </summary>
    public static IServiceCollection AddTenancyModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddMediator((MediatorOptions o) =>
        {
            o.Namespace = "Triggers.Modular.Tenancy.Mediation";
            o.GenerateTypesAsInternal = true;
            o.ServiceLifetime = ServiceLifetime.Scoped;
            // Only this assembly: Contracts holds no messages yet (and the generator refuses an assembly that does not
            // use Mediator.Abstractions). Add typeof(a Contracts message) here when a public command or query appears.
            o.Assemblies = [typeof(TenancyModuleRegistration)];
            o.PipelineBehaviors = [];
        });
        services.AddValidatorsFromAssembly(typeof(TenancyModuleRegistration).Assembly, includeInternalTypes: true);
        services.AddEventTypes(r => r
            .Register<TenantCreated>("tenancy.tenant_created")
            .Register<EnvironmentCreated>("tenancy.environment_created")
            .Register<ApiKeyIssued>("tenancy.api_key_issued")
            .Register<ApiKeyRevoked>("tenancy.api_key_revoked"));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(TenancyOptions.From(configuration));
        services.AddSingleton<IMigrationSource>(TenancyTables.Migrations);
        services.AddProjection<TenancyProjection>();
        services.AddSingleton<ApiKeyCache>();
        services.AddSingleton<ApiKeyValidator>();
        services.AddSingleton<IApiKeyValidator>(sp => sp.GetRequiredService<ApiKeyValidator>());
        services.AddSingleton<StoreReader>();
        services.AddSingleton<ITenancyModule>(sp => new TenancyModule(sp.GetRequiredService<IServiceScopeFactory>(),
            sp.GetRequiredService<StoreReader>(), sp.GetRequiredService<TenancyOptions>(), "system"));
        return services;
    }
}
