using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.EndToEnd.Tests.Support;

namespace Triggers.Modular.EndToEnd.Tests.Platform;

/// <summary>Every endpoint declares who may call it; only the public list is anonymous.</summary>
public sealed class EndpointPolicyTests : IAsyncLifetime
{
    /// <summary>Routes that are public on purpose (prefixes of route patterns).</summary>
    private static readonly string[] PublicRoutes = ["/health/", "/openapi/", "/docs", "/metrics", "/api/webhooks/"];

    private ApiHost _host = null!;

    public async Task InitializeAsync() => _host = await ApiHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private List<RouteEndpoint> Endpoints() =>
        _host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();

    private static string Describe(RouteEndpoint e) => $"{e.DisplayName} ({e.RoutePattern.RawText})";

    [Fact]
    public void Given_every_endpoint_When_inspected_Then_each_declares_a_policy_or_is_a_listed_public_route()
    {
        var endpoints = Endpoints();
        Assert.Contains(endpoints, e => e.RoutePattern.RawText == "/api/v1/me"); // the enumeration sees the modules' routes

        var undeclared = endpoints.Where(e =>
            e.Metadata.GetMetadata<IAllowAnonymous>() is null
            && !e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => !string.IsNullOrEmpty(a.Policy))).Select(Describe).ToList();
        Assert.True(undeclared.Count == 0, "Endpoints without a policy: " + string.Join("; ", undeclared));

        var anonymous = endpoints.Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            .Where(e => !PublicRoutes.Any(p => ("/" + (e.RoutePattern.RawText ?? "").TrimStart('/')).StartsWith(p, StringComparison.Ordinal)))
            .Select(Describe).ToList();
        Assert.True(anonymous.Count == 0, "Anonymous endpoints outside the public list: " + string.Join("; ", anonymous));
    }

    [Fact]
    public async Task Given_every_declared_policy_When_looked_up_Then_it_exists()
    {
        var provider = _host.Services.GetRequiredService<IAuthorizationPolicyProvider>();
        var names = Endpoints().SelectMany(e => e.Metadata.GetOrderedMetadata<IAuthorizeData>()).Select(a => a.Policy).OfType<string>().Distinct();
        foreach (var name in names)
            Assert.True(await provider.GetPolicyAsync(name) is not null, $"policy '{name}' is used by an endpoint but not registered");
    }

    [Fact]
    public void Given_api_routes_When_inspected_Then_all_live_under_api_v1_or_the_public_list()
    {
        var stray = Endpoints().Select(e => "/" + (e.RoutePattern.RawText ?? "").TrimStart('/'))
            .Where(r => !r.StartsWith("/api/v1/", StringComparison.Ordinal) && !PublicRoutes.Any(p => r.StartsWith(p, StringComparison.Ordinal)))
            .ToList();
        Assert.True(stray.Count == 0, "Routes outside /api/v1 and the public list: " + string.Join(", ", stray));
    }
}
