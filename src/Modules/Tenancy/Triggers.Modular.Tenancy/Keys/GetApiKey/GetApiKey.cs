using Mediator;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.Tenancy.Common;
using Triggers.Modular.Tenancy.Contracts;
using Triggers.Modular.Tenancy.Keys.Domain;

namespace Triggers.Modular.Tenancy.Keys;

/// <summary>One key of that tenant × environment, read from its stream (a key is visible the moment it is issued).</summary>
internal sealed record GetApiKey(string TenantId, string Environment, string KeyId) : IQuery<ApiKeyDto>, ITenantScoped;

internal sealed class GetApiKeyHandler(CommandHandler handler) : IQueryHandler<GetApiKey, ApiKeyDto>
{
    public async ValueTask<ApiKeyDto> Handle(GetApiKey query, CancellationToken cancellationToken)
    {
        if (!PrefixedId.IsValid(ApiKeyTokens.KeyIdPrefix, query.KeyId)) throw new NotFoundException("API key", query.KeyId);
        var (key, _) = await handler.LoadAsync(ApiKeyDecider.Instance, Streams.ApiKey(query.KeyId), cancellationToken);
        if (!key.BelongsTo(query.TenantId, query.Environment)) throw new NotFoundException("API key", query.KeyId);
        return ToDto(key);
    }

    public static ApiKeyDto ToDto(ApiKeyState key) =>
        new(key.KeyId!, key.Prefix, key.Name, key.TenantId, key.Environment, key.Permissions, key.CreatedAt, key.RevokedAt);
}

internal static class GetApiKeyEndpoint
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/keys/{key_id}", async ([FromRoute(Name = "key_id")] string keyId, RequestContext context, TenancyMediator mediator,
                CancellationToken cancellationToken) =>
            {
                var scope = context.RequireTenant();
                return TypedResults.Ok(await mediator.Send(new GetApiKey(scope.TenantId, scope.Environment, keyId), cancellationToken));
            })
            .RequireAuthorization(Permissions.Admin)
            .WithName("GetApiKey")
            .WithSummary("Get one API key of the caller's environment (never its token)")
            .Produces<ApiKeyDto>()
            .ProducesProblem(StatusCodes.Status404NotFound);
}
