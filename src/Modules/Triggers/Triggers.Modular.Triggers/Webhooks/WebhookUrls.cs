using Microsoft.AspNetCore.Http;

namespace Triggers.Modular.Triggers.Webhooks;

/// <summary>The public URL of a webhook trigger: <c>Triggers:Webhooks:PublicBaseUrl</c> + <c>/api/webhooks/{id}</c>, or the
/// asking request's scheme and host when no base is configured.</summary>
internal sealed class WebhookUrls(WebhookOptions options, IHttpContextAccessor http)
{
    public const string RoutePrefix = "/api/webhooks";

    public string? For(string triggerId, string type)
    {
        if (type != "webhook") return null;
        var path = $"{RoutePrefix}/{triggerId}";
        if (options.PublicBaseUrl.Length > 0) return options.PublicBaseUrl.TrimEnd('/') + path;
        return http.HttpContext?.Request is { } r ? $"{r.Scheme}://{r.Host}{r.PathBase}{path}" : path;
    }
}
