using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.Security;

namespace Triggers.Modular.Tenancy.Keys.Domain;

internal sealed class ApiKeyDecider : IDecider<ApiKeyState, ApiKeyCommand, IEvent>
{
    public static ApiKeyDecider Instance { get; } = new();

    public ApiKeyState Initial => ApiKeyState.Initial;

    public IReadOnlyList<IEvent> Decide(ApiKeyState state, ApiKeyCommand command) => command switch
    {
        ApiKeyCommand.Issue c when state.Exists => throw new ConflictException($"API key '{c.KeyId}' already exists.", "api-key-exists"),
        ApiKeyCommand.Issue c when c.Permissions.Count == 0 || !c.Permissions.All(Permissions.IsKnown) =>
            throw new BadRequestException("An API key needs at least one permission, each a known one.", "invalid-permissions"),
        ApiKeyCommand.Issue c =>
        [
            new ApiKeyIssued(c.KeyId, c.TenantId, c.Environment, c.Name, [.. c.Permissions.Distinct(StringComparer.Ordinal)],
                c.TokenHash, c.Prefix, c.At),
        ],
        // Another tenant's or environment's key answers exactly like a missing one.
        ApiKeyCommand.Revoke c when !state.BelongsTo(c.TenantId, c.Environment) => throw new NotFoundException("API key", c.KeyId),
        ApiKeyCommand.Revoke when state.IsRevoked => [],
        ApiKeyCommand.Revoke c => [new ApiKeyRevoked(c.KeyId, c.At)],
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown API key command."),
    };

    public ApiKeyState Evolve(ApiKeyState state, IEvent @event) => @event switch
    {
        ApiKeyIssued e => new ApiKeyState(e.KeyId, e.TenantId, e.Environment, e.Name, e.Permissions, e.TokenHash, e.Prefix, e.CreatedAt, null),
        ApiKeyRevoked e => state with { RevokedAt = state.RevokedAt ?? e.RevokedAt },
        _ => state,
    };
}
