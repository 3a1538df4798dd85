using Triggers.Modular.BuildingBlocks.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.Tenancy.Contracts;

namespace Triggers.Modular.Tenancy.Tenants;

/// <summary>Body of <c>POST /api/v1/admin/tenants</c>. <c>name</c> defaults to the id.</summary>
internal sealed record CreateTenantRequest(string? Id, string? Name, IReadOnlyList<string>? Environments);

internal static class CreateTenantEndpoint
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/admin/tenants", async (CreateTenantRequest request, TenancyMediator mediator, CancellationToken cancellationToken) =>
            {
                var tenant = await mediator.Send(
                    new CreateTenant(request.Id ?? "", request.Name ?? request.Id ?? "", request.Environments ?? []), cancellationToken);
                return TypedResults.Created($"/api/v1/admin/tenants/{tenant.Id}", tenant);
            })
            .RequireAuthorization(Policies.Operator)
            .AcceptsIdempotencyKey()
            .WithName("CreateTenant")
            .WithSummary("Create a tenant with its initial environments (operator)")
            .WithDescription("Idempotent with an Idempotency-Key header. 409 when the tenant exists.")
            .Produces<TenantDto>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);
}
