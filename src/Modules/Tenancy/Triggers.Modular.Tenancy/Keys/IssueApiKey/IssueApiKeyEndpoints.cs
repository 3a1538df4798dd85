using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.Errors;
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
        // The response holds a secret shown once, which is never stored, so a retry could not be answered with it:
        // refuse the header rather than silently mint a second key on a retry.
        if (http.RequestServices.GetRequiredService<RequestContext>().IdempotencyKey is not null)
            throw new BadRequestException(
                "Idempotency-Key is not supported when issuing API keys: the token is shown once and never stored. " +
                "After a lost response, list the keys (GET /api/v1/keys) and revoke any you did not receive.",
                "idempotency-key-not-supported");
        var key = await mediator.Send(command, cancellationToken);
        // The body carries a credential: no cache, proxy or browser may keep it.
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created($"/api/v1/keys/{key.Id}", key);
    }
}
