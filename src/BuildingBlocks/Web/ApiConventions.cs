using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
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
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            problem.Instance ??= context.HttpContext.Request.Path;
            // Bare status codes (unknown route, wrong method) get the framework's RFC links; use our own types throughout.
            if (problem.Type is null || problem.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal))
                problem.Type = ProblemTypes.Uri(problem.Status switch
                {
                    404 => "not-found",
                    405 => "method-not-allowed",
                    401 => "unauthenticated",
                    403 => "forbidden",
                    >= 500 => "internal-error",
                    _ => "bad-request",
                });
            problem.Extensions.Remove("traceId");
            problem.Extensions["trace_id"] = Activity.Current?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier;
            if (CorrelationMiddleware.Get(context.HttpContext) is { } correlation) problem.Extensions["correlation_id"] = correlation;
        });
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.ConfigureHttpJsonOptions(o => Configure(o.SerializerOptions, options.MaxJsonDepth));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        return services;
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

    /// <summary>Fills the request's <see cref="Mediation.RequestContext"/> from the authenticated principal and headers.</summary>
    public static IApplicationBuilder UseRequestContext(this IApplicationBuilder app) => app.UseMiddleware<RequestContextMiddleware>();
}
