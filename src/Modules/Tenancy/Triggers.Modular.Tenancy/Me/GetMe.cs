using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.Tenancy.Keys.Domain;

namespace Triggers.Modular.Tenancy.Me;

/// <summary>Who the credential is: scope, permissions, and for an API key its id and public prefix.</summary>
internal sealed record MeResponse(string TenantId, string Environment, IReadOnlyList<string> Permissions, string? KeyId, string? KeyPrefix,
    string Actor);

internal static class GetMeEndpoint
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/me", (RequestContext context, ClaimsPrincipal user) =>
            {
                var scope = context.RequireTenant();
                var permissions = user.FindAll(TenantClaims.Permission).Select(c => c.Value).Distinct(StringComparer.Ordinal)
                    .Order(StringComparer.Ordinal).ToList();
                var keyId = user.FindFirst(TenantClaims.KeyId)?.Value;
                var prefix = keyId is not null && keyId.StartsWith(ApiKeyTokens.KeyIdPrefix + "_", StringComparison.Ordinal)
                    ? ApiKeyTokens.PrefixOf(keyId)
                    : null;
                return TypedResults.Ok(new MeResponse(scope.TenantId, scope.Environment, permissions, keyId, prefix, context.Actor));
            })
            .RequireAuthorization(Policies.Authenticated)
            .WithName("GetMe")
            .WithSummary("Describe the calling credential: tenant, environment, permissions, key id and prefix")
            .Produces<MeResponse>();
}
