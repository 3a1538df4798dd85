using Microsoft.AspNetCore.Builder;

namespace Triggers.Modular.BuildingBlocks.Web;

/// <summary>Marks an endpoint whose command honours <c>Idempotency-Key</c> (its command is an <c>IIdempotentCommand</c>),
/// so the OpenAPI document declares the header there.</summary>
public sealed class IdempotencyKeyMetadata;

public static class IdempotencyKeyEndpointExtensions
{
    public static TBuilder AcceptsIdempotencyKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new IdempotencyKeyMetadata());
}
