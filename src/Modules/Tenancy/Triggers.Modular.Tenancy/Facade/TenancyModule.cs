using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.Tenancy.Contracts;
using Triggers.Modular.Tenancy.Environments;
using Triggers.Modular.Tenancy.Keys;
using Triggers.Modular.Tenancy.Tenants;

namespace Triggers.Modular.Tenancy.Facade;

/// <summary>Sends the module's commands in a scope of its own, acting as <see cref="Actor"/> in the scope the command targets.</summary>
internal sealed class TenancyModule(IServiceScopeFactory scopes, StoreReader reader, TenancyOptions options, string actor)
    : ITenancyModule
{
    public string Actor => actor;

    public ITenancyModule WithActor(string actor) => new TenancyModule(scopes, reader, options, actor);

    public Task<TenantDto> CreateTenantAsync(string tenantId, string name, IReadOnlyList<string> environments, CancellationToken cancellationToken = default) =>
        SendAsync(null, new CreateTenant(tenantId, name, environments), cancellationToken);

    public Task<EnvironmentDto> CreateEnvironmentAsync(string tenantId, string name, CancellationToken cancellationToken = default) =>
        SendAsync(new TenantScope(tenantId, name), new CreateEnvironment(tenantId, name), cancellationToken);

    public Task<IssuedApiKeyDto> IssueApiKeyAsync(string tenantId, string environment, string name, IReadOnlyList<string> permissions,
        CancellationToken cancellationToken = default) =>
        SendAsync(new TenantScope(tenantId, environment), new IssueApiKey(tenantId, environment, name, permissions), cancellationToken);

    public async Task RevokeApiKeyAsync(string tenantId, string environment, string keyId, CancellationToken cancellationToken = default) =>
        await SendAsync(new TenantScope(tenantId, environment), new RevokeApiKey(tenantId, environment, keyId), cancellationToken);

    public Task<IReadOnlyList<ApiKeyDto>> ListApiKeysAsync(string tenantId, string environment, CancellationToken cancellationToken = default) =>
        reader.ApiKeysAsync(tenantId, environment, cancellationToken);

    public Task<IReadOnlyList<TenantDto>> ListTenantsAsync(CancellationToken cancellationToken = default) =>
        reader.TenantsAsync(cancellationToken);

    public async Task<IssuedApiKeyDto?> EnsureFirstRunAsync(CancellationToken cancellationToken = default)
    {
        if (!options.BootstrapEnabled || await reader.AnyTenantAsync(cancellationToken)) return null;
        try
        {
            await CreateTenantAsync(options.OperatorTenant, options.OperatorTenant, [TenancyOptions.BootstrapEnvironment], cancellationToken);
        }
        catch (Exception ex) when (ex is ConflictException or WrongExpectedRevisionException)
        {
            return null; // another process's first run created the tenant first (its NoStream append won): it issues the key
        }

        return await IssueApiKeyAsync(options.OperatorTenant, TenancyOptions.BootstrapEnvironment, "bootstrap-admin", Permissions.All,
            cancellationToken);
    }

    private async Task<TResponse> SendAsync<TResponse>(TenantScope? scope, Mediator.ICommand<TResponse> command, CancellationToken cancellationToken)
    {
        await using var serviceScope = scopes.CreateAsyncScope();
        var context = serviceScope.ServiceProvider.GetRequiredService<RequestContext>();
        context.Actor = actor;
        context.Tenant = scope;
        return await serviceScope.ServiceProvider.GetRequiredService<TenancyMediator>().Send(command, cancellationToken);
    }
}
