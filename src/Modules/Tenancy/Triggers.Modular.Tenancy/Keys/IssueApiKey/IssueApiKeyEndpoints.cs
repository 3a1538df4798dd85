using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.Tenancy.Contracts;

namespace Triggers.Modular.Tenancy.Keys;

/// <summary>Body of both issue-key endpoints.</summary>
internal sealed record IssueApiKeyRequest(string? Name, IReadOnlyList<string>? Permissions);

internal static class IssueApiKeyEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/keys", (IssueApiKeyRequest request, RequestContext context, TenancyMediator mediator, HttpContext http,
                CancellationToken cancellationToken) =>
            {
                var scope = context.RequireTenant();
                return IssueAsync(mediator, http, new IssueApiKey(scope.TenantId, scope.Environment, request.Name ?? "", request.Permissions ?? []),
                    cancellationToken);
            })
            .RequireAuthorization(Permissions.Admin)
            .WithName("IssueApiKey")
            .WithSummary("Issue an API key for the caller's tenant and environment; the token is shown once")
            .Produces<IssuedApiKeyDto>(StatusCodes.Status201Created)
            .ProducesValidationProblem();

        api.MapPost("/admin/tenants/{tenant_id}/environments/{environment}/keys", ([FromRoute(Name = "tenant_id")] string tenantId,
                string environment, IssueApiKeyRequest request, TenancyMediator mediator, HttpContext http, CancellationToken cancellationToken) =>
                IssueAsync(mediator, http, new IssueApiKey(tenantId, environment, request.Name ?? "", request.Permissions ?? []), cancellationToken))
            .RequireAuthorization(Policies.Operator)
            .WithName("IssueTenantApiKey")
            .WithSummary("Issue an API key for any tenant and environment (operator); the token is shown once")
            .Produces<IssuedApiKeyDto>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Created<IssuedApiKeyDto>> IssueAsync(TenancyMediator mediator, HttpContext http, IssueApiKey command, CancellationToken cancellationToken)
    {
        var key = await mediator.Send(command, cancellationToken);
        // The body carries a credential: no cache, proxy or browser may keep it.
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created($"/api/v1/keys/{key.Id}", key);
    }
}
