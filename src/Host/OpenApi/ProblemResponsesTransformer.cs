using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Triggers.Modular.BuildingBlocks.Web;

namespace Triggers.Modular.Host.OpenApi;

/// <summary>
/// Declares the problem+json answers every operation can give (see docs/api-errors.md) and the
/// <c>Idempotency-Key</c> header where an endpoint honours it, so the document matches what the pipeline does.
/// </summary>
internal sealed class ProblemResponsesTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var method = context.Description.HttpMethod ?? "GET";
        operation.Responses ??= [];
        if (!metadata.OfType<IAllowAnonymous>().Any() && metadata.OfType<IAuthorizeData>().Any())
        {
            Add(operation, "401", "No valid bearer token (problem type `unauthenticated`).");
            Add(operation, "403", "The credential lacks the required permission (problem type `forbidden`).");
            Add(operation, "429", "Over the credential's rate limit; see `Retry-After` (problem type `rate-limited`).");
        }

        if (method is "POST" or "PUT" or "PATCH")
        {
            Add(operation, "400", "Invalid fields or malformed JSON (problem types `validation-error`, `malformed-json`).");
            Add(operation, "413", "Body over the size limit (problem type `body-too-large`).");
            Add(operation, "415", "Body not sent as `application/json` (problem type `unsupported-media-type`).");
        }

        if (metadata.OfType<IdempotencyKeyMetadata>().Any())
        {
            Add(operation, "409", "A request with the same `Idempotency-Key` is still running (problem type `idempotency-key-in-progress`).");
            Add(operation, "422", "The `Idempotency-Key` was used with a different request (problem type `idempotency-key-reused`).");
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "Idempotency-Key",
                In = ParameterLocation.Header,
                Required = false,
                Description = "Retries with the same key within 24 h get the first response (header `Idempotent-Replayed: true`) and do not run the command again.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 255 },
            });
        }

        Add(operation, "500", "Unexpected failure; quote `trace_id` (problem type `internal-error`).");
        return Task.CompletedTask;
    }

    private static void Add(OpenApiOperation operation, string status, string description)
    {
        if (operation.Responses!.ContainsKey(status)) return;
        operation.Responses[status] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() },
        };
    }
}
