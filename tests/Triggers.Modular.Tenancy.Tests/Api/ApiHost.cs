using System.Net.Http.Headers;
using System.Text.Json;
using FluentValidation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.Tenancy.Contracts;

namespace Triggers.Modular.Tenancy.Tests.Api;

/// <summary>
/// The module's endpoints in a minimal in-memory web host: the platform's authentication and policies, snake_case
/// JSON, and stand-ins for the host's request-context middleware and problem mapping (which the host owns).
/// </summary>
internal sealed class ApiHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ApiHost(WebApplication app, HttpClient client)
    {
        _app = app;
        Client = client;
    }

    public HttpClient Client { get; }
    public IServiceProvider Services => _app.Services;

    public static async Task<ApiHost> StartAsync(StoreHarness harness)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(harness.Store);
        builder.Services.AddSingleton(harness.Database);
        builder.Services.AddSingleton<MigrationRunner>();
        builder.Services.AddSingleton(EventStoreMigrations.Source);
        builder.Services.AddMediatorPipeline();
        builder.Services.AddTenancyModule(builder.Configuration);
        builder.Services.AddPlatformSecurity(builder.Configuration);
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);

        var app = builder.Build();
        await app.Services.GetRequiredService<MigrationRunner>().MigrateAsync();
        app.Use(MapErrorsAsync);
        app.UseAuthentication();
        app.Use(FillRequestContextAsync);
        app.UseAuthorization();
        app.MapTenancyEndpoints();
        await app.StartAsync();
        return new ApiHost(app, app.GetTestClient());
    }

    public HttpClient ClientWith(string token)
    {
        var client = _app.GetTestClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public ITenancyModule Module => _app.Services.GetRequiredService<ITenancyModule>();

    private static async Task FillRequestContextAsync(HttpContext http, Func<Task> next)
    {
        var context = http.RequestServices.GetRequiredService<RequestContext>();
        var user = http.User;
        if (user.FindFirst(TenantClaims.Tenant) is { } tenant && user.FindFirst(TenantClaims.Environment) is { } environment)
            context.Tenant = new TenantScope(tenant.Value, environment.Value);
        context.Actor = user.FindFirst(TenantClaims.Actor)?.Value ?? "anonymous";
        context.IdempotencyKey = http.Request.Headers["Idempotency-Key"].FirstOrDefault();
        await next();
    }

    private static async Task MapErrorsAsync(HttpContext http, Func<Task> next)
    {
        try
        {
            await next();
        }
        catch (ApiErrorException ex)
        {
            http.Response.StatusCode = ex.Status;
            await http.Response.WriteAsJsonAsync(new { detail = ex.Message });
        }
        catch (ValidationException ex)
        {
            http.Response.StatusCode = 400;
            await http.Response.WriteAsJsonAsync(new { errors = ex.Errors.Select(e => e.PropertyName) });
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
