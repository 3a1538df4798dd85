using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;

namespace Triggers.Modular.EndToEnd.Tests.Observability;

/// <summary>
/// A bare in-memory web app that calls one piece of the host's wiring directly, so each piece is checked on its
/// own, whatever the rest of the host does.
/// </summary>
internal sealed class MinimalHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MinimalHost(WebApplication app)
    {
        _app = app;
        Client = app.GetTestServer().CreateClient();
    }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<MinimalHost> StartAsync(
        Dictionary<string, string?> settings, Action<WebApplicationBuilder> services, Action<WebApplication> pipeline)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Configuration.Sources.Clear(); // not the Host's appsettings.json copied next to the tests
        builder.Configuration.AddInMemoryCollection(settings);
        services(builder);

        var app = builder.Build();
        pipeline(app);
        await app.StartAsync();
        return new MinimalHost(app);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
    }
}
