using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.Errors;

namespace Triggers.Modular.BuildingBlocks.Web;

/// <summary>Limits of the HTTP API (<c>Api</c> section).</summary>
public sealed class ApiOptions
{
    /// <summary>Largest request body accepted (413 beyond it).</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Deepest JSON nesting accepted in a body (400 beyond it).</summary>
    public int MaxJsonDepth { get; set; } = 64;
}

public static class ApiConventions
{
    /// <summary>snake_case JSON, RFC 9457 problem+json for every error, body size and JSON depth limits.</summary>
    public static IServiceCollection AddApiConventions(this IServiceCollection services, IConfiguration configuration)
    {
        var options = new ApiOptions();
        configuration.GetSection("Api").Bind(options);
        services.AddSingleton(options);
        services.AddHttpContextAccessor();
        // First writer: problem+json whatever the Accept header says (the default writer gives up on Accept: text/html).
        services.AddSingleton<IProblemDetailsWriter, ProblemJsonWriter>();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = Customize);
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.ConfigureHttpJsonOptions(o => Configure(o.SerializerOptions, options.MaxJsonDepth));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        return services;
    }

    /// <summary>Our problem types throughout, and trace and correlation ids on every problem.</summary>
    internal static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var http = context.HttpContext;
        problem.Status ??= http.Response.StatusCode;
        problem.Title ??= ReasonPhrases.GetReasonPhrase(problem.Status.Value);
        problem.Instance ??= http.Request.Path;
        // Bare status codes (unknown route, wrong method, wrong content type) come with the framework's RFC links.
        if (problem.Type is null || problem.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal) || problem.Type == "about:blank")
        {
            problem.Type = ProblemTypes.Uri(problem.Status switch
            {
                404 => "not-found",
                405 => "method-not-allowed",
                401 => "unauthenticated",
                403 => "forbidden",
                413 => "body-too-large",
                415 => "unsupported-media-type",
                >= 500 => "internal-error",
                _ => "bad-request",
            });
            problem.Detail ??= problem.Status switch
            {
                404 => "No resource or route matches this request.",
                405 => "This route does not accept this method; see the Allow header.",
                415 => "Send the body as JSON with 'Content-Type: application/json'.",
                _ => null,
            };
        }

        problem.Extensions.Remove("traceId");
        problem.Extensions["trace_id"] = Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier;
        if (CorrelationMiddleware.Get(http) is { } correlation)
        {
            problem.Extensions["correlation_id"] = correlation;
            http.Response.Headers[CorrelationMiddleware.Header] = correlation; // the exception handler clears headers
        }
    }

    public static void Configure(JsonSerializerOptions json, int maxDepth = 64)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        json.MaxDepth = maxDepth;
        json.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        json.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
    }

    /// <summary>Outermost middleware: problem+json for exceptions and bare status codes, correlation id, body limit.
    /// Call before authentication; call <see cref="UseRequestContext"/> after it.</summary>
    public static IApplicationBuilder UseApiConventions(this IApplicationBuilder app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<CorrelationMiddleware>();
        app.UseMiddleware<BodySizeLimitMiddleware>();
        return app;
    }

    /// <summary>Fills the request's <see cref="Mediation.RequestContext"/> from the authenticated principal and headers.
    /// Call after authorization, so that an unauthenticated or forbidden call is refused before its headers are judged.</summary>
    public static IApplicationBuilder UseRequestContext(this IApplicationBuilder app) => app.UseMiddleware<RequestContextMiddleware>();
}
