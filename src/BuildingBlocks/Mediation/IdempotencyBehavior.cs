using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;

namespace Triggers.Modular.BuildingBlocks.Mediation;

/// <summary>
/// For an <see cref="IIdempotentCommand"/> sent with an <c>Idempotency-Key</c>: the first response is kept for 24 h per
/// tenant × environment × key and returned to every retry without running the command again; the same key with a
/// different command → 422; a retry while the first is still running → 409.
/// </summary>
public sealed class IdempotencyBehavior<TMessage, TResponse>(RequestContext context, IdempotencyStore store) : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IMessage
{
    public async ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        if (message is not IIdempotentCommand || context.IdempotencyKey is not { } key || context.Tenant is not { } scope)
            return await next(message, cancellationToken);

        var hash = RequestHash(message);
        var (claim, responseJson, claimId) = await store.ClaimAsync(scope, key, hash, cancellationToken);
        switch (claim)
        {
            case IdempotencyClaim.Completed:
                context.IdempotentReplay = true;
                return JsonSerializer.Deserialize<TResponse>(responseJson!, EventSerializer.Options)!;
            case IdempotencyClaim.DifferentRequest:
                throw new UnprocessableException(
                    $"Idempotency-Key '{key}' was already used with a different request; use a new key for a new request.",
                    "idempotency-key-reused");
            case IdempotencyClaim.InProgress:
                throw new ConflictException($"A request with Idempotency-Key '{key}' is still being processed; retry later.",
                    "idempotency-key-in-progress");
        }

        TResponse response;
        try
        {
            response = await next(message, cancellationToken);
        }
        catch
        {
            await store.ReleaseAsync(scope, key, claimId!, CancellationToken.None);
            throw;
        }

        // False only if our lease lapsed and a retry took over: it re-ran the command (a no-op, by the key's event ids) and stores its own.
        // A secret shown once is never kept in the record: a retry gets the response without it.
        object? kept = response is IShownOnce once ? once.WithoutSecret() : response;
        await store.CompleteAsync(scope, key, claimId!, JsonSerializer.Serialize(kept, typeof(TResponse), EventSerializer.Options), CancellationToken.None);
        return response;
    }

    /// <summary>The command's type and content: the same key on another endpoint or with another body differs.</summary>
    private static string RequestHash(TMessage message)
    {
        var json = JsonSerializer.Serialize(message, message.GetType(), EventSerializer.Options);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(message.GetType().FullName + "\n" + json)));
    }
}
