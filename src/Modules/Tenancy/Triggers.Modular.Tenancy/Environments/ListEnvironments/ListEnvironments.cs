using Dapper;
using Mediator;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Tenancy.Common;
using Triggers.Modular.Tenancy.ReadModel;

namespace Triggers.Modular.Tenancy.Environments;

internal sealed record EnvironmentItem(string Name, DateTimeOffset CreatedAt);

/// <summary>The environments of one tenant, from the read model.</summary>
internal sealed record ListEnvironments(string TenantId) : IQuery<ItemsResponse<EnvironmentItem>>, ITenantScoped;

internal sealed class ListEnvironmentsHandler(IStoreDatabase database) : IQueryHandler<ListEnvironments, ItemsResponse<EnvironmentItem>>
{
    public async ValueTask<ItemsResponse<EnvironmentItem>> Handle(ListEnvironments query, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            $"SELECT name AS Name, created_at AS CreatedAt FROM {TenancyTables.Environments(database.Dialect)} " +
            "WHERE tenant_id = @tenant ORDER BY created_at, name",
            new { tenant = query.TenantId }, cancellationToken: cancellationToken));
        return new ItemsResponse<EnvironmentItem>([.. rows.Select(r => new EnvironmentItem(r.Name, SqlTime.Read(r.CreatedAt)))]);
    }

    private sealed class Row
    {
        public string Name { get; init; } = "";
        public object CreatedAt { get; init; } = "";
    }
}

internal static class ListEnvironmentsEndpoint
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/environments", async (RequestContext context, TenancyMediator mediator, CancellationToken cancellationToken) =>
                TypedResults.Ok(await mediator.Send(new ListEnvironments(context.RequireTenant().TenantId), cancellationToken)))
            .RequireAuthorization(Permissions.Admin)
            .WithName("ListEnvironments")
            .WithSummary("List the caller's tenant's environments (read model: may lag writes by milliseconds)")
            .Produces<ItemsResponse<EnvironmentItem>>();
}
