using Triggers.Modular.BuildingBlocks.EventStore;

namespace Triggers.Modular.BuildingBlocks.Mediation;

/// <summary>The tenant × environment a caller acts in. It comes from credentials, never from a request body.</summary>
public readonly record struct TenantScope(string TenantId, string Environment)
{
    public override string ToString() => $"{TenantId}/{Environment}";
}

/// <summary>
/// Who is calling and in which scope, for one request (a DI scope). Filled from the authenticated principal and
/// the request headers by the API, or set explicitly by CLI verbs and background work.
/// </summary>
public sealed class RequestContext
{
    public string CorrelationId { get; set; } = Guid.NewGuid().ToString("N");

    public string? CausationId { get; set; }

    public TenantScope? Tenant { get; set; }

    /// <summary>Recorded in event metadata: <c>key:{key_id}</c>, <c>jwt:{sub}</c>, <c>cli</c> or <c>system</c>.</summary>
    public string Actor { get; set; } = "system";

    public IReadOnlySet<string> Permissions { get; set; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The <c>Idempotency-Key</c> header of a POST, if any.</summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>Set when the idempotency behaviour answered from a stored result instead of running the command.</summary>
    public bool IdempotentReplay { get; set; }

    public TenantScope RequireTenant() => Tenant ?? throw new Errors.UnauthenticatedException();

    public EventMetadata ToMetadata(string? causationId = null) =>
        new(Tenant?.TenantId, Tenant?.Environment, Actor, CorrelationId, causationId ?? CausationId);
}
