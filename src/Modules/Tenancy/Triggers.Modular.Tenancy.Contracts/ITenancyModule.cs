namespace Triggers.Modular.Tenancy.Contracts;

/// <summary>
/// The Tenancy module's public facade, for the host's CLI and start-up and for tests. Each call runs in its own DI
/// scope as <see cref="Actor"/> (<c>system</c> unless <see cref="WithActor"/> says otherwise), through the module's
/// mediator pipeline (validation included). Lists read the event store, so they are consistent without the projection host.
/// </summary>
public interface ITenancyModule
{
    /// <summary>Recorded as the actor of the events this facade writes: <c>system</c>, <c>cli</c>, …</summary>
    string Actor { get; }

    /// <summary>The same facade acting as <paramref name="actor"/>.</summary>
    ITenancyModule WithActor(string actor);

    Task<TenantDto> CreateTenantAsync(string tenantId, string name, IReadOnlyList<string> environments, CancellationToken cancellationToken = default);

    Task<EnvironmentDto> CreateEnvironmentAsync(string tenantId, string name, CancellationToken cancellationToken = default);

    /// <summary>Issues a key; the returned token is shown once and never stored.</summary>
    Task<IssuedApiKeyDto> IssueApiKeyAsync(string tenantId, string environment, string name, IReadOnlyList<string> permissions,
        CancellationToken cancellationToken = default);

    /// <summary>Revokes a key of that tenant × environment; revoking twice succeeds. Unknown → <c>NotFoundException</c>.</summary>
    Task RevokeApiKeyAsync(string tenantId, string environment, string keyId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ApiKeyDto>> ListApiKeysAsync(string tenantId, string environment, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<TenantDto>> ListTenantsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// On a store without any tenant (and with <c>Tenancy:Bootstrap:Enabled</c>, the default), creates the operator
    /// tenant (<c>Tenancy:OperatorTenant</c>, default <c>default</c>) with environment <c>dev</c> and an admin key with
    /// every permission, and returns that key's token; otherwise null. Of concurrent first runs exactly one creates.
    /// </summary>
    Task<IssuedApiKeyDto?> EnsureFirstRunAsync(CancellationToken cancellationToken = default);
}
