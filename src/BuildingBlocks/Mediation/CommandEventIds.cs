using Triggers.Modular.BuildingBlocks.Aggregates;

namespace Triggers.Modular.BuildingBlocks.Mediation;

/// <summary>
/// Event ids of an <see cref="IIdempotentCommand"/>: derived from the caller's scope, the <c>Idempotency-Key</c>, the
/// command and its stream when a key was sent, so a re-run after a crash appends the same ids and
/// <see cref="CommandHandler"/> recognises the replay. The stream is part of the name so that a key reused after its
/// 24 h retention for another target writes new events instead of colliding with the old ones. Null without a key.
/// </summary>
public static class CommandEventIds
{
    public static Func<int, Guid>? From(RequestContext context, string command, string stream)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.IdempotencyKey is not { } key) return null;
        var name = $"{context.Tenant?.TenantId}/{context.Tenant?.Environment}/{key}/{command}/{stream}";
        return i => DeterministicId.Create(name, i);
    }
}
