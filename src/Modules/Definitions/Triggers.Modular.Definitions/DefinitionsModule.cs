using System.Text.Json;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Definitions.Api;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.Definitions.Definitions;
using Triggers.Modular.Definitions.ReadModel;
using Triggers.Modular.Definitions.Validation;
using Triggers.Modular.Executions.Contracts.Steps.BuiltIn;

namespace Triggers.Modular.Definitions;

internal sealed class DefinitionsModule(CommandHandler handler, DefinitionStatusCache statuses) : IDefinitionsModule
{
    public async Task<DefinitionStatusDto?> GetStatusAsync(string tenantId, string environment, string definitionId,
        CancellationToken cancellationToken = default)
    {
        if (statuses.Get(definitionId) is { } cached)
            return cached.TenantId == tenantId && cached.Environment == environment ? cached.Status : null;
        if (!BuildingBlocks.Ids.PrefixedId.IsValid("wf", definitionId)) return null;
        var generation = statuses.Generation;
        var (state, _) = await handler.LoadAsync(Domain.DefinitionDecider.Instance, Common.DefinitionStreams.For(definitionId), cancellationToken);
        if (!state.Exists || state.Deleted) return null; // misses are not kept: a definition created next is found at once
        var dto = state.ToDto(null);
        statuses.Set(definitionId, state.TenantId, state.Environment, new DefinitionStatusDto(dto.Id, dto.Version, dto.Enabled), generation);
        return state.BelongsTo(tenantId, environment) ? new DefinitionStatusDto(dto.Id, dto.Version, dto.Enabled) : null;
    }

    public async Task<DefinitionDto?> GetVersionAsync(string tenantId, string environment, string definitionId, int version,
        CancellationToken cancellationToken = default)
    {
        if (!BuildingBlocks.Ids.PrefixedId.IsValid("wf", definitionId)) return null;
        var (state, _) = await handler.LoadAsync(Domain.DefinitionDecider.Instance, Common.DefinitionStreams.For(definitionId), cancellationToken);
        if (!state.BelongsTo(tenantId, environment) || state.Versions.All(v => v.Version != version)) return null;
        return state.ToDto(version);
    }

    public async Task<DefinitionDto?> GetAsync(string tenantId, string environment, string definitionId, int? version = null,
        CancellationToken cancellationToken = default)
    {
        try
        {
            return (await handler.LoadOwnedAsync(new TenantScope(tenantId, environment), definitionId, cancellationToken)).ToDto(version);
        }
        catch (NotFoundException)
        {
            return null;
        }
    }

    public IReadOnlyList<TriggerFieldError> ValidateTrigger(JsonElement trigger) => TriggerDocumentCheck.Validate(trigger);
}

public static class DefinitionsModuleRegistration
{
    /// <summary>Workflow definitions: the module's own mediator, validators, event types, read model and facade.</summary>
    public static IServiceCollection AddDefinitionsModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddMediator((MediatorOptions o) =>
        {
            o.Namespace = "Triggers.Modular.Definitions.Mediation";
            o.GenerateTypesAsInternal = true;
            o.ServiceLifetime = ServiceLifetime.Scoped;
            o.Assemblies = [typeof(DefinitionsModuleRegistration)];
            o.PipelineBehaviors = [];
        });
        services.AddValidatorsFromAssembly(typeof(DefinitionsModuleRegistration).Assembly, includeInternalTypes: true);
        services.AddEventTypes(r => DefinitionEventTypes.Register(r));
        services.TryAddSingleton(TimeProvider.System);
        services.AddBuiltInStepTypes(); // idempotent; here too so that definitions validate with the Executions module switched off
        services.AddSingleton<DefinitionValidator>();
        services.AddSingleton<IMigrationSource>(DefinitionsProjection.Migrations);
        services.AddProjection<DefinitionsProjection>();
        var statusSeconds = configuration.GetValue("Definitions:StatusCacheSeconds", 1.0);
        services.AddSingleton(sp => new DefinitionStatusCache(statusSeconds, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IDefinitionsModule, DefinitionsModule>();
        return services;
    }
}

public static class DefinitionsEndpoints
{
    public static IEndpointRouteBuilder MapDefinitionsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        DefinitionEndpoints.Map(endpoints);
        return endpoints;
    }
}
