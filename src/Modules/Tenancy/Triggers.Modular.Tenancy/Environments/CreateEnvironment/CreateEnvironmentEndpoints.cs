using Triggers.Modular.BuildingBlocks.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.Tenancy.Contracts;

namespace Triggers.Modular.Tenancy.Environments;

/// <summary>Body of both create-environment endpoints.</summary>
internal sealed record CreateEnvironmentRequest(string? Name);

internal static class CreateEnvironmentEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/environments", async (CreateEnvironmentRequest request, RequestContext context, TenancyMediator mediator,
                CancellationToken cancellationToken) =>
            {
                var environment = await mediator.Send(new CreateEnvironment(context.RequireTenant().TenantId, request.Name ?? ""), cancellationToken);
                return TypedResults.Created($"/api/v1/environments/{environment.Name}", environment);
            })
            .RequireAuthorization(Permissions.Admin)
            .AcceptsIdempotencyKey()
            .WithName("CreateEnvironment")
            .WithSummary("Add an environment to the caller's tenant")
            .WithDescription("Idempotent with an Idempotency-Key header. 409 when the environment exists.")
            .Produces<EnvironmentDto>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);

        api.MapPost("/admin/tenants/{tenant_id}/environments", async ([FromRoute(Name = "tenant_id")] string tenantId, CreateEnvironmentRequest request,
                TenancyMediator mediator, CancellationToken cancellationToken) =>
            {
                var environment = await mediator.Send(new CreateEnvironment(tenantId, request.Name ?? ""), cancellationToken);
                return TypedResults.Created($"/api/v1/admin/tenants/{tenantId}/environments/{environment.Name}", environment);
            })
            .RequireAuthorization(Policies.Operator)
            .AcceptsIdempotencyKey()
            .WithName("CreateTenantEnvironment")
            .WithSummary("Add an environment to any tenant (operator)")
            .WithDescription("Idempotent with an Idempotency-Key header. 404 unknown tenant, 409 existing environment.")
            .Produces<EnvironmentDto>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }
}
