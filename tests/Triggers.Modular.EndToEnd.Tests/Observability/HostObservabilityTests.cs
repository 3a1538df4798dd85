using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;

namespace Triggers.Modular.EndToEnd.Tests.Observability;

/// <summary>The same pieces as the other tests here, through the real host and its pipeline order.</summary>
public sealed class HostObservabilityTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "tm-e2e", Guid.NewGuid().ToString("N"));

    private WebApplicationFactory<Program> Host(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("EventStore:Sqlite:Path", Path.Combine(_folder, "store.db"));
            foreach (var (key, value) in settings ?? []) b.UseSetting(key, value);
            if (services is not null) b.ConfigureTestServices(services);
        });

    /// <summary>Callers authenticate with <see cref="TestAuthHandler"/>'s headers instead of issued keys.</summary>
    private static void FakeAuthentication(IServiceCollection services)
    {
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
        services.PostConfigure<AuthenticationOptions>(o =>
        {
            o.DefaultScheme = TestAuthHandler.SchemeName;
            o.DefaultAuthenticateScheme = TestAuthHandler.SchemeName;
        });
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient client, string path, string? keyId = null, string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (keyId is not null)
        {
            request.Headers.Add(TestAuthHandler.KeyIdHeader, keyId);
            request.Headers.Add(TestAuthHandler.TenantHeader, "tenant-a");
        }
        if (bearer is not null) request.Headers.Add("Authorization", $"Bearer {bearer}");
        request.Headers.Add("X-Correlation-Id", "corr-e2e-1");
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task Given_the_host_When_an_anonymous_caller_reads_the_openapi_document_and_the_docs_Then_both_answer()
    {
        await using var factory = Host();
        using var client = factory.CreateClient();

        var document = await client.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        var docs = await client.GetAsync(new Uri("/docs", UriKind.Relative)); // follows the redirect to /docs/

        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        Assert.Equal("application/json", document.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await document.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.TryGetProperty("openapi", out _));
        var bearer = json.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.Equal("bearer", bearer.GetProperty("scheme").GetString());
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
        Assert.Equal("text/html", docs.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Given_a_request_When_metrics_are_scraped_anonymously_Then_the_request_is_counted()
    {
        await using var factory = Host();
        using var client = factory.CreateClient();

        await client.GetAsync(new Uri("/health/live", UriKind.Relative));
        var scrape = await client.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Equal("text/plain", scrape.Content.Headers.ContentType?.MediaType);
        Assert.Contains("http_requests_received_total", await scrape.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Given_a_burst_of_two_When_one_key_sends_three_quick_requests_Then_it_gets_429_with_retry_after_and_another_key_does_not()
    {
        await using var factory = Host(
            new() { ["RateLimiting:PermitsPerSecond"] = "1", ["RateLimiting:Burst"] = "2" },
            FakeAuthentication);
        using var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "/health/live", "key_a")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "/health/live", "key_a")).StatusCode);
        var rejected = await GetAsync(client, "/health/live", "key_a");
        if (rejected.StatusCode == HttpStatusCode.OK)
            rejected = await GetAsync(client, "/health/live", "key_a"); // a once-a-second refill landed between the requests

        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.True(rejected.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal("application/problem+json", rejected.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "/health/live", "key_b")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "/health/live")).StatusCode);
    }

    [Fact]
    public async Task Given_json_logging_When_an_authenticated_request_completes_Then_its_event_has_correlation_id_and_tenant_and_never_the_bearer_token()
    {
        const string token = "tmk_live_e2e-secret-that-must-never-be-logged";
        var sink = new CapturingSink();
        await using var factory = Host(
            new() { ["Logging:Format"] = "json", ["Serilog:MinimumLevel:Default"] = "Verbose" },
            services =>
            {
                FakeAuthentication(services);
                services.AddSingleton<ILogEventSink>(sink);
            });
        using var client = factory.CreateClient();

        await GetAsync(client, "/health/live", "key_123", token);
        var completed = await sink.RequestCompletedAsync("/health/live");

        Assert.Equal("\"tenant-a\"", completed.Properties["tenant"].ToString());
        Assert.Equal("\"key_123\"", completed.Properties["key_id"].ToString());
        Assert.True(completed.Properties.TryGetValue("correlation_id", out var correlation) && correlation.ToString().Length > 2);
        Assert.DoesNotContain(token, sink.AsJson(), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }
}
