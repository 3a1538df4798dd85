namespace Triggers.Modular.Tenancy.Contracts;

/// <summary>A tenant and the names of its environments.</summary>
public sealed record TenantDto(string Id, string Name, IReadOnlyList<string> Environments, DateTimeOffset CreatedAt);

/// <summary>An environment of a tenant (<c>dev</c>, <c>prod</c>, …).</summary>
public sealed record EnvironmentDto(string TenantId, string Name, DateTimeOffset CreatedAt);

/// <summary>An API key as listed: never its token nor the token's hash. <see cref="Prefix"/> identifies it in logs.</summary>
public sealed record ApiKeyDto(
    string Id,
    string Prefix,
    string Name,
    string TenantId,
    string Environment,
    IReadOnlyList<string> Permissions,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt);

/// <summary>A key just issued. <see cref="Token"/> is the bearer credential, returned this once and stored nowhere.</summary>
public sealed record IssuedApiKeyDto(
    string Id,
    string Prefix,
    string Token,
    string Name,
    string TenantId,
    string Environment,
    IReadOnlyList<string> Permissions,
    DateTimeOffset CreatedAt)
{
    /// <summary>Leaves the token out, so that logging the object by mistake does not leak it.</summary>
    public override string ToString() =>
        $"IssuedApiKeyDto {{ Id = {Id}, Prefix = {Prefix}, Name = {Name}, TenantId = {TenantId}, Environment = {Environment} }}";
}
