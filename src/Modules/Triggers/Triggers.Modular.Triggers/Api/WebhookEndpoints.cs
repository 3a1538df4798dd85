using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Web;
using Triggers.Modular.Triggers.Resources;
using Triggers.Modular.Triggers.Webhooks;

namespace Triggers.Modular.Triggers.Api;

/// <summary>Body of a rotation: <c>{ "overlap_seconds", "secret" }</c>, both optional.</summary>
internal sealed record RotateSecretInput(int? OverlapSeconds, string? Secret);

/// <summary>The public webhook receiver (<c>/api/webhooks/{trigger_id}</c>) and the webhook sub-resources of triggers.</summary>
internal static class WebhookEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        const string receiver = WebhookUrls.RoutePrefix + "/{triggerId}";
        const string summary = "Webhook receiver (public; the trigger's own auth protects it): 202 { success, execution_id, message, request_id } " +
            "once the request and the execution it starts are stored (plain text with response_format text). Checks in order: 404 unknown or " +
            "deleted trigger; 409 disabled trigger (also a missing or disabled workflow); 405 method not allowed (Allow header); 403 origin not " +
            "in allowed_origins (a request without Origin is refused when the list is set); 413 body over Triggers:Webhooks:MaxBodyBytes; 401 " +
            "auth (api_key header, Bearer token, or HMAC-SHA256 of the raw body: hmac_scheme standard = webhook-id/webhook-timestamp/" +
            "webhook-signature v1,<base64> within ±300 s, github = X-Hub-Signature-256: sha256=<hex>, plain = X-Signature: sha256=<hex>); 429 " +
            "rate limit per trigger (Retry-After); 400 malformed JSON body. A repeated delivery id (standard: the signed webhook-id; " +
            "otherwise X-GitHub-Delivery, else Idempotency-Key) answers the first execution_id and starts nothing. Every request to an existing trigger is recorded in its " +
            "webhook log. Any content type is taken (JSON parsed, forms as an object of fields, any other body as a string — base64 when " +
            "not UTF-8). Any method the trigger's config allows works alike; OPTIONS with Origin answers CORS preflights.";
        endpoints.MapPost(receiver, (HttpContext http, string triggerId, WebhookReceiver webhooks) => webhooks.HandleAsync(http, triggerId))
            .AllowAnonymous().WithTags("Webhooks").WithName("ReceiveWebhook").WithSummary(summary)
            .Produces<WebhookAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status405MethodNotAllowed).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status429TooManyRequests);
        // Every other method (GET, PUT, …, also PROPFIND or TRACE) reaches the receiver too, which answers 404/409/405 in
        // its order and records the request; the POST endpoint above wins for POST (lower order).
        endpoints.Map(receiver, (HttpContext http, string triggerId, WebhookReceiver webhooks) => webhooks.HandleAsync(http, triggerId))
            .AllowAnonymous().ExcludeFromDescription()
            .Add(b => ((RouteEndpointBuilder)b).Order = 1);

        var group = endpoints.MapGroup("/api/v1/triggers").WithTags("Triggers");
        group.MapPost("/{id}/rotate-secret", async (string id, HttpRequest request, TriggersMediator mediator, CancellationToken ct) =>
            {
                // The answer holds a secret shown once and kept nowhere else: a retry could not be answered with it (as for API keys).
                if (request.HttpContext.RequestServices.GetRequiredService<RequestContext>().IdempotencyKey is not null)
                    throw new BadRequestException("Idempotency-Key is not supported when rotating a secret: the new secret is shown once. " +
                        "After a lost response, rotate again (the secrets of both rotations keep verifying during the overlap).",
                        "idempotency-key-not-supported");
                var body = request.ContentLength is > 0 || request.HasJsonContentType() ? await ReadAsync(request, ct) : new RotateSecretInput(null, null);
                var issued = await mediator.Send(new RotateWebhookSecret(id, body.OverlapSeconds, body.Secret), ct);
                request.HttpContext.Response.Headers.CacheControl = "no-store";
                return TypedResults.Ok(issued);
            })
            .RequireAuthorization(Permissions.WorkflowsWrite)
            .Accepts<RotateSecretInput>("application/json")
            .WithName("RotateWebhookSecret")
            .WithSummary("Issue a new secret for a webhook trigger, shown once in this answer. Body (optional) { overlap_seconds (default 86400; " +
                "0 ends the old secret now), secret (to set one instead of generating: 16–512 printable characters; whsec_<base64> for " +
                "hmac_scheme standard) }. The previous secret keeps verifying until previous_secret_expires_at. 409 for a trigger that is " +
                "not a webhook.")
            .Produces<WebhookSecretIssued>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        group.MapGet("/{id}/webhook-logs", async (string id, [FromQuery] int? status, [FromQuery] DateTimeOffset? from, [FromQuery] DateTimeOffset? to,
                [FromQuery] int? limit, [FromQuery] string? cursor, TriggersMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new ListWebhookLogs(id, status, from, to, limit ?? 50, cursor), ct)))
            .RequireAuthorization(Permissions.WorkflowsRead)
            .WithName("ListWebhookLogs")
            .WithSummary("A webhook trigger's request log, newest first: every request, accepted or refused, with method, path, query and " +
                "headers (secrets redacted), body up to Triggers:Webhooks:LogBodyBytes, status, reason, duration, client IP, user agent, " +
                "delivery and execution ids. Filters: status, from (inclusive), to (exclusive); limit 1–200 (default 50); cursor = a page's " +
                "next_cursor. A read model: a request shows up milliseconds after its answer.")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<RotateSecretInput> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (!request.HasJsonContentType())
            throw new BadHttpRequestException("Send the body as JSON.", StatusCodes.Status415UnsupportedMediaType);
        try
        {
            return await request.ReadFromJsonAsync<RotateSecretInput>(ct) ?? new RotateSecretInput(null, null);
        }
        catch (JsonException e)
        {
            throw new BadHttpRequestException("Malformed JSON body.", StatusCodes.Status400BadRequest, e);
        }
    }
}
