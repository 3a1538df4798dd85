using Dapper;
using Mediator;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Tenancy.Common;
using Triggers.Modular.Tenancy.Contracts;
using Triggers.Modular.Tenancy.ReadModel;

namespace Triggers.Modular.Tenancy.Tenants;

/// <summary>Every tenant with its environments, from the read model (operator only).</summary>
internal sealed record ListTenants : IQuery<ItemsResponse<TenantDto>>;

internal sealed class ListTenantsHandler(IStoreDatabase database) : IQueryHandler<ListTenants, ItemsResponse<TenantDto>>
{
    public async ValueTask<ItemsResponse<TenantDto>> Handle(ListTenants query, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        var d = database.Dialect;
        var tenants = await connection.QueryAsync<Row>(new CommandDefinition(
            $"SELECT tenant_id AS TenantId, name AS Name, created_at AS CreatedAt FROM {TenancyTables.Tenants(d)} ORDER BY tenant_id",
            cancellationToken: cancellationToken));
        var environments = (await connection.QueryAsync<Row>(new CommandDefinition(
                $"SELECT tenant_id AS TenantId, name AS Name, created_at AS CreatedAt FROM {TenancyTables.Environments(d)} ORDER BY created_at, name",
                cancellationToken: cancellationToken)))
            .ToLookup(e => e.TenantId, e => e.Name, StringComparer.Ordinal);
        return new ItemsResponse<TenantDto>(
            [.. tenants.Select(t => new TenantDto(t.TenantId, t.Name, [.. environments[t.TenantId]], SqlTime.Read(t.CreatedAt)))]);
    }

    private sealed class Row
    {
        public string TenantId { get; init; } = "";
        public string Name { get; init; } = "";
        public object CreatedAt { get; init; } = "";
    }
}

internal static class ListTenantsEndpoint
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/admin/tenants", async (TenancyMediator mediator, CancellationToken cancellationToken) =>
                TypedResults.Ok(await mediator.Send(new ListTenants(), cancellationToken)))
            .RequireAuthorization(Policies.Operator)
            .WithName("ListTenants")
            .WithSummary("List every tenant and its environments (operator; read model: may lag writes by milliseconds)")
            .Produces<ItemsResponse<TenantDto>>();
}
