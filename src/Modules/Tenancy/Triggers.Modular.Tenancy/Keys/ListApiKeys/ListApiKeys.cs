using Dapper;
using Mediator;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Tenancy.Common;
using Triggers.Modular.Tenancy.Contracts;
using Triggers.Modular.Tenancy.ReadModel;

namespace Triggers.Modular.Tenancy.Keys;

/// <summary>The keys of one tenant × environment, revoked ones included, from the read model.</summary>
internal sealed record ListApiKeys(string TenantId, string Environment) : IQuery<ItemsResponse<ApiKeyDto>>, ITenantScoped;

internal sealed class ListApiKeysHandler(IStoreDatabase database) : IQueryHandler<ListApiKeys, ItemsResponse<ApiKeyDto>>
{
    public async ValueTask<ItemsResponse<ApiKeyDto>> Handle(ListApiKeys query, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            "SELECT key_id AS KeyId, tenant_id AS TenantId, environment AS Environment, name AS Name, prefix AS Prefix, " +
            "permissions AS Permissions, created_at AS CreatedAt, revoked_at AS RevokedAt " +
            $"FROM {TenancyTables.ApiKeys(database.Dialect)} WHERE tenant_id = @tenant AND environment = @environment " +
            "ORDER BY created_at, key_id",
            new { tenant = query.TenantId, environment = query.Environment }, cancellationToken: cancellationToken));
        return new ItemsResponse<ApiKeyDto>([.. rows.Select(r => r.ToDto())]);
    }

    private sealed class Row
    {
        public string KeyId { get; init; } = "";
        public string TenantId { get; init; } = "";
        public string Environment { get; init; } = "";
        public string Name { get; init; } = "";
        public string Prefix { get; init; } = "";
        public string Permissions { get; init; } = "[]";
        public object CreatedAt { get; init; } = "";
        public object? RevokedAt { get; init; }

        public ApiKeyDto ToDto() => new(KeyId, Prefix, Name, TenantId, Environment, TenancyTables.ReadPermissions(Permissions),
            SqlTime.Read(CreatedAt), SqlTime.ReadNullable(RevokedAt));
    }
}

internal static class ListApiKeysEndpoint
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/keys", async (RequestContext context, TenancyMediator mediator, CancellationToken cancellationToken) =>
            {
                var scope = context.RequireTenant();
                return TypedResults.Ok(await mediator.Send(new ListApiKeys(scope.TenantId, scope.Environment), cancellationToken));
            })
            .RequireAuthorization(Permissions.Admin)
            .WithName("ListApiKeys")
            .WithSummary("List the API keys of the caller's environment, never their tokens (read model: may lag writes by milliseconds)")
            .Produces<ItemsResponse<ApiKeyDto>>();
}
