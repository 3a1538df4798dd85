using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.EndToEnd.Tests.Support;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Platform;

/// <summary>The OpenAPI document stays true to the code: every API route, its errors and its headers.</summary>
public sealed class OpenApiDocumentTests : IAsyncLifetime
{
    private ApiHost _host = null!;
    private JsonObject _doc = null!;

    public async Task InitializeAsync()
    {
        _host = await ApiHost.StartAsync();
        _doc = await (await _host.Anonymous().GetAsync(Url("/openapi/v1.json"))).JsonAsync();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private JsonObject Operation(string path, string method) => _doc["paths"]![path]![method]!.AsObject();

    [Fact]
    public void Given_every_api_route_When_the_document_is_read_Then_each_route_and_method_is_in_it()
    {
        var missing = _host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/v1/", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => (Path: e.RoutePattern.RawText!.TrimEnd('/'), Method: m.ToLowerInvariant()))) // a group's "" route ends in '/'; routing ignores it
            .Where(r => _doc["paths"]?[r.Path]?[r.Method] is null)
            .ToList();
        Assert.True(missing.Count == 0, "Not in /openapi/v1.json: " + string.Join(", ", missing));
    }

    [Fact]
    public void Given_an_authorized_operation_Then_it_requires_the_bearer_scheme_and_lists_401_403_429()
    {
        var me = Operation("/api/v1/me", "get");
        Assert.NotNull(me["security"]);
        foreach (var status in new[] { "401", "403", "429", "500" })
            Assert.NotNull(me["responses"]![status]!["content"]!["application/problem+json"]);
        Assert.Equal("bearer", _doc["components"]!["securitySchemes"]!["Bearer"]!["scheme"]!.GetValue<string>());
    }

    [Fact]
    public void Given_posts_Then_the_idempotency_key_header_is_declared_exactly_where_it_is_honoured()
    {
        static bool HasHeader(JsonObject op) => op["parameters"]?.AsArray().Any(p => p!["name"]!.GetValue<string>() == "Idempotency-Key") == true;
        Assert.True(HasHeader(Operation("/api/v1/environments", "post")));
        Assert.True(HasHeader(Operation("/api/v1/admin/tenants", "post")));
        Assert.False(HasHeader(Operation("/api/v1/keys", "post")));
        Assert.NotNull(Operation("/api/v1/environments", "post")["responses"]!["422"]);
        Assert.NotNull(Operation("/api/v1/keys", "post")["responses"]!["415"]);
    }
}
