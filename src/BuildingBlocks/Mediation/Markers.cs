namespace Triggers.Modular.BuildingBlocks.Mediation;

/// <summary>A message that acts inside the caller's tenant × environment; the tenant behaviour refuses it without one.</summary>
#pragma warning disable CA1040 // markers by design: pipeline behaviours are constrained by them
public interface ITenantScoped;

/// <summary>
/// A command whose first response is kept for an <c>Idempotency-Key</c>: a retry with the same key and the same
/// command gets that response back without running the command again. Commands whose response carries a secret
/// shown once (API keys) must not implement it, unless the response is an <see cref="IShownOnce"/>.
/// </summary>
public interface IIdempotentCommand;
#pragma warning restore CA1040

/// <summary>A response that may carry a secret shown once (a webhook trigger's first secret): the idempotency record keeps
/// <see cref="WithoutSecret"/> instead, so a retry answers the same resource without the secret, which is stored nowhere
/// but where it is needed.</summary>
public interface IShownOnce
{
    object WithoutSecret();
}
