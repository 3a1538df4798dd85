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
using Triggers.Modular.Tenancy.Keys.Authentication;
using Triggers.Modular.Tenancy.Keys.Domain;

namespace Triggers.Modular.Tenancy.Keys;

/// <summary>Revokes a key of that tenant × environment. Unknown, malformed or another scope's key → 404; twice → no-op.</summary>
internal sealed record RevokeApiKey(string TenantId, string Environment, string KeyId) : ICommand, ITenantScoped, IIdempotentCommand;

internal sealed class RevokeApiKeyHandler(CommandHandler handler, RequestContext context, TimeProvider clock, ApiKeyCache cache)
    : ICommandHandler<RevokeApiKey>
{
    public async ValueTask<Unit> Handle(RevokeApiKey command, CancellationToken cancellationToken)
    {
        if (!PrefixedId.IsValid(ApiKeyTokens.KeyIdPrefix, command.KeyId)) throw new NotFoundException("API key", command.KeyId);
        var stream = Streams.ApiKey(command.KeyId);
        var metadata = context.ToMetadata() with { TenantId = command.TenantId, Environment = command.Environment };
        var result = await handler.HandleAsync(ApiKeyDecider.Instance, stream,
            new ApiKeyCommand.Revoke(command.KeyId, command.TenantId, command.Environment, clock.Now()), metadata,
            CommandEventIds.From(context, nameof(RevokeApiKey), stream), maxAttempts: 3, cancellationToken: cancellationToken);
        // Refused at once on this instance; other instances drop it when their cache entry expires (Auth:ApiKeyCacheSeconds).
        cache.Evict(result.State.KeyId!, result.State.TokenHash);
        return Unit.Value;
    }
}

internal static class RevokeApiKeyEndpoint
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapDelete("/keys/{key_id}", async ([FromRoute(Name = "key_id")] string keyId, RequestContext context, TenancyMediator mediator,
                CancellationToken cancellationToken) =>
            {
                var scope = context.RequireTenant();
                await mediator.Send(new RevokeApiKey(scope.TenantId, scope.Environment, keyId), cancellationToken);
                return TypedResults.NoContent();
            })
            .RequireAuthorization(Permissions.Admin)
            .WithName("RevokeApiKey")
            .WithSummary("Revoke an API key of the caller's environment; revoking twice succeeds")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound);
}
