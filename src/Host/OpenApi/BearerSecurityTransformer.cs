using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Triggers.Modular.Host.OpenApi;

/// <summary>
/// Declares the <c>Bearer</c> scheme once and requires it on every operation that authorization guards, so a
/// client generator knows which calls need the header and the reference page offers a place to paste a token.
/// </summary>
internal sealed class BearerSecurityTransformer(IOptions<AuthorizationOptions> authorization)
    : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    public const string SchemeName = "Bearer";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.AddComponent<IOpenApiSecurityScheme>(SchemeName, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An API key (`tmk_…`) or a JWT, sent as `Authorization: Bearer <token>`.",
        });
        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (!RequiresAuthorization(context.Description.ActionDescriptor.EndpointMetadata)) return Task.CompletedTask;

        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement
        {
            [new OpenApiSecuritySchemeReference(SchemeName, context.Document)] = [],
        });
        return Task.CompletedTask;
    }

    private bool RequiresAuthorization(IList<object> metadata)
    {
        if (metadata.OfType<IAllowAnonymous>().Any()) return false;

        // A fallback policy guards every endpoint that declares nothing of its own.
        return metadata.OfType<IAuthorizeData>().Any()
            || metadata.OfType<AuthorizationPolicy>().Any()
            || authorization.Value.FallbackPolicy is not null;
    }
}
