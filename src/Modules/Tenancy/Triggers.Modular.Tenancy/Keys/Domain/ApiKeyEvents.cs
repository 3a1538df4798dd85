using Triggers.Modular.BuildingBlocks.Aggregates;

namespace Triggers.Modular.Tenancy.Keys.Domain;

/// <summary>
/// Stream <c>apikey-{key_id}</c>, first event; stored as <c>tenancy.api_key_issued</c>. Holds the token's SHA-256
/// (<see cref="TokenHash"/>), never the token.
/// </summary>
internal sealed record ApiKeyIssued(
    string KeyId,
    string TenantId,
    string Environment,
    string Name,
    IReadOnlyList<string> Permissions,
    string TokenHash,
    string Prefix,
    DateTimeOffset CreatedAt) : IEvent;

/// <summary>Stream <c>apikey-{key_id}</c>; stored as <c>tenancy.api_key_revoked</c>.</summary>
internal sealed record ApiKeyRevoked(string KeyId, DateTimeOffset RevokedAt) : IEvent;
