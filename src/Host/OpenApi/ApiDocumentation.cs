using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Triggers.Modular.Host.OpenApi;

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c> and its interactive reference at <c>/docs</c>, both anonymous.
/// <c>ApiDocumentation:Enabled=false</c> leaves both out.
/// </summary>
public static class ApiDocumentation
{
    public const string DocumentName = "v1";
    public const string Title = "Triggers.Modular API";
    private const string DocumentRoute = "/openapi/{documentName}.json";

    public static IServiceCollection AddApiDocumentation(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (!Enabled(configuration)) return services;

        services.AddOpenApi(DocumentName, options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo { Title = Title, Version = DocumentName };
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer<BearerSecurityTransformer>();
            options.AddOperationTransformer<BearerSecurityTransformer>();
            options.AddOperationTransformer<ProblemResponsesTransformer>();
        });
        return services;
    }

    public static WebApplication MapApiDocumentation(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!Enabled(app.Configuration)) return app;

        app.MapOpenApi(DocumentRoute).AllowAnonymous();
        app.MapScalarApiReference("/docs", options => options
                .WithTitle(Title)
                .WithOpenApiRoutePattern(DocumentRoute)
                .AddDocument(DocumentName, Title))
            .AllowAnonymous();
        return app;
    }

    private static bool Enabled(IConfiguration configuration) =>
        configuration.GetValue("ApiDocumentation:Enabled", defaultValue: true);
}
