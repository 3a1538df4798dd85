using Microsoft.AspNetCore.Http;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Security;

namespace Triggers.Modular.BuildingBlocks.Web;

/// <summary>Copies the authenticated caller (tenant, environment, permissions, actor), the correlation id and the
/// <c>Idempotency-Key</c> of a POST into the scoped <see cref="RequestContext"/> the mediator pipeline reads.</summary>
internal sealed class RequestContextMiddleware(RequestDelegate next)
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    public async Task InvokeAsync(HttpContext context, RequestContext request)
    {
        request.CorrelationId = CorrelationMiddleware.Get(context) ?? request.CorrelationId;
        var user = context.User;
        if (user.Identity?.IsAuthenticated == true
            && user.FindFirst(TenantClaims.Tenant)?.Value is { } tenant
            && user.FindFirst(TenantClaims.Environment)?.Value is { } environment)
        {
            request.Tenant = new TenantScope(tenant, environment);
            request.Actor = user.FindFirst(TenantClaims.Actor)?.Value ?? "unknown";
            request.Permissions = user.FindAll(TenantClaims.Permission).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        }

        // Only for a matched endpoint: an unknown route stays a 404 whatever its headers.
        if (HttpMethods.IsPost(context.Request.Method) && context.GetEndpoint() is not null
            && context.Request.Headers.TryGetValue(IdempotencyKeyHeader, out var values))
        {
            var key = values.ToString();
            if (values.Count != 1 || key.Length is 0 or > 255 || key.Any(c => c is < '!' or > '~'))
            {
                await ProblemResponses.WriteAsync(context, 400, "validation-error", "Invalid request header",
                    "Send one Idempotency-Key header of 1–255 visible ASCII characters.",
                    new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [IdempotencyKeyHeader] = ["must be a single value of 1–255 visible ASCII characters"] } });
                return;
            }

            request.IdempotencyKey = key;
        }

        context.Response.OnStarting(() =>
        {
            if (request.IdempotentReplay) context.Response.Headers[ReplayedHeader] = "true";
            return Task.CompletedTask;
        });
        await next(context);
    }
}
