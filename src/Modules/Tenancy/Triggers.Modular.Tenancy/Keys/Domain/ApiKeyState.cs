namespace Triggers.Modular.Tenancy.Keys.Domain;

/// <summary>An API key as folded from its stream; <see cref="Initial"/> when the stream is empty.</summary>
internal sealed record ApiKeyState(
    string? KeyId,
    string TenantId,
    string Environment,
    string Name,
    IReadOnlyList<string> Permissions,
    string TokenHash,
    string Prefix,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt)
{
    public static ApiKeyState Initial { get; } = new(null, "", "", "", [], "", "", default, null);

    public bool Exists => KeyId is not null;

    public bool IsRevoked => RevokedAt is not null;

    /// <summary>Whether the key exists and belongs to that tenant × environment (anything else reads as "not found").</summary>
    public bool BelongsTo(string tenantId, string environment) =>
        Exists && TenantId == tenantId && Environment == environment;
}

/// <summary>What a caller may ask of a key. The handler makes the id, token and time; the decider stays pure.</summary>
internal abstract record ApiKeyCommand
{
    public sealed record Issue(
        string KeyId,
        string TenantId,
        string Environment,
        string Name,
        IReadOnlyList<string> Permissions,
        string TokenHash,
        string Prefix,
        DateTimeOffset At) : ApiKeyCommand;

    public sealed record Revoke(string KeyId, string TenantId, string Environment, DateTimeOffset At) : ApiKeyCommand;
}
