using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.Host.RateLimiting;

namespace Triggers.Modular.EndToEnd.Tests.Observability;

public sealed class RateLimitingTests
{
    private static Task<MinimalHost> StartAsync(bool enabled = true) => MinimalHost.StartAsync(
        new()
        {
            ["RateLimiting:Enabled"] = enabled ? "true" : "false",
            ["RateLimiting:PermitsPerSecond"] = "1",
            ["RateLimiting:Burst"] = "2",
        },
        b =>
        {
            b.Services.AddAuthentication(TestAuthHandler.SchemeName)
                .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
            b.Services.AddProblemDetails();
            b.Services.AddApiRateLimiting(b.Configuration);
        },
        app =>
        {
            app.UseAuthentication();
            app.UseApiRateLimiting();
            app.MapGet("/api/v1/ping", () => Results.Ok());
        });

    private static async Task<HttpResponseMessage> PingAsync(MinimalHost host, string? keyId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/v1/ping", UriKind.Relative));
        if (keyId is not null) request.Headers.Add(TestAuthHandler.KeyIdHeader, keyId);
        return await host.Client.SendAsync(request);
    }

    [Fact]
    public async Task Given_a_burst_of_two_When_one_key_sends_three_quick_requests_Then_the_third_is_429_with_retry_after_and_a_problem_and_another_key_is_not_limited()
    {
        await using var host = await StartAsync();

        Assert.Equal(HttpStatusCode.OK, (await PingAsync(host, "key_a")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PingAsync(host, "key_a")).StatusCode);
        var rejected = await PingAsync(host, "key_a");
        if (rejected.StatusCode == HttpStatusCode.OK)
            rejected = await PingAsync(host, "key_a"); // a once-a-second refill landed between the requests

        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        var retryAfter = Assert.Single(rejected.Headers.GetValues("Retry-After"));
        Assert.True(int.TryParse(retryAfter, out var seconds) && seconds >= 1, $"Retry-After: {retryAfter}");
        Assert.Equal("application/problem+json", rejected.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await rejected.Content.ReadAsStringAsync());
        Assert.Equal(429, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("Too many requests", problem.RootElement.GetProperty("title").GetString());
        Assert.EndsWith("/rate-limited", problem.RootElement.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal("/api/v1/ping", problem.RootElement.GetProperty("instance").GetString());
        Assert.False(string.IsNullOrEmpty(problem.RootElement.GetProperty("detail").GetString()));

        Assert.Equal(HttpStatusCode.OK, (await PingAsync(host, "key_b")).StatusCode);
    }

    [Fact]
    public async Task Given_anonymous_callers_When_they_send_many_requests_Then_none_is_limited()
    {
        await using var host = await StartAsync();

        for (var i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.OK, (await PingAsync(host, keyId: null)).StatusCode);
    }

    [Fact]
    public async Task Given_rate_limiting_disabled_When_one_key_sends_many_requests_Then_none_is_limited()
    {
        await using var host = await StartAsync(enabled: false);

        for (var i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.OK, (await PingAsync(host, "key_a")).StatusCode);
    }
}
