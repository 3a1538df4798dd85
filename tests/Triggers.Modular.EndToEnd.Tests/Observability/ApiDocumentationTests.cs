using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.Host.OpenApi;

namespace Triggers.Modular.EndToEnd.Tests.Observability;

public sealed class ApiDocumentationTests
{
    private static Task<MinimalHost> StartAsync() => MinimalHost.StartAsync(
        [],
        b =>
        {
            b.Services.AddAuthorization();
            b.Services.AddApiDocumentation(b.Configuration);
        },
        app =>
        {
            app.MapApiDocumentation();
            app.MapGet("/api/v1/guarded", () => Results.Ok()).RequireAuthorization();
            app.MapGet("/api/v1/open", () => Results.Ok());
        });

    [Fact]
    public async Task Given_a_guarded_and_an_open_endpoint_When_the_document_is_read_Then_it_declares_bearer_and_requires_it_only_on_the_guarded_one()
    {
        await using var host = await StartAsync();

        var response = await host.Client.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = doc.RootElement;
        Assert.StartsWith("3.", root.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        Assert.Equal("Triggers.Modular API", root.GetProperty("info").GetProperty("title").GetString());
        Assert.Equal("v1", root.GetProperty("info").GetProperty("version").GetString());

        var bearer = root.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.Equal("http", bearer.GetProperty("type").GetString());
        Assert.Equal("bearer", bearer.GetProperty("scheme").GetString());
        Assert.Contains("tmk_", bearer.GetProperty("description").GetString(), StringComparison.Ordinal);

        var guarded = root.GetProperty("paths").GetProperty("/api/v1/guarded").GetProperty("get");
        Assert.True(guarded.GetProperty("security")[0].TryGetProperty("Bearer", out _));
        var open = root.GetProperty("paths").GetProperty("/api/v1/open").GetProperty("get");
        Assert.False(open.TryGetProperty("security", out _));
    }

    [Fact]
    public async Task Given_the_reference_page_When_requested_Then_it_answers_html_that_points_at_the_document()
    {
        await using var host = await StartAsync();

        var redirect = await host.Client.GetAsync(new Uri("/docs", UriKind.Relative));
        var page = await host.Client.GetAsync(new Uri("/docs/", UriKind.Relative));

        Assert.True(redirect.StatusCode is HttpStatusCode.OK or HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect,
            $"/docs answered {redirect.StatusCode}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Triggers.Modular API", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
