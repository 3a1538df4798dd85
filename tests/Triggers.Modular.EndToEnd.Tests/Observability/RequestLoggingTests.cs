using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;
using Triggers.Modular.Host.Observability;

namespace Triggers.Modular.EndToEnd.Tests.Observability;

/// <summary>Console capture swaps the process's <see cref="Console.Out"/>, so nothing else runs meanwhile.</summary>
[CollectionDefinition(nameof(ConsoleCapture), DisableParallelization = true)]
public sealed class ConsoleCapture;

[Collection(nameof(ConsoleCapture))]
public sealed class RequestLoggingTests
{
    private const string Token = "tmk_live_s3cr3t-token-that-must-never-be-logged";

    private static Task<MinimalHost> StartAsync(string format, CapturingSink? sink = null) => MinimalHost.StartAsync(
        new()
        {
            ["Logging:Format"] = format,
            ["Serilog:MinimumLevel:Default"] = "Verbose",
        },
        b =>
        {
            if (sink is not null) b.Services.AddSingleton<ILogEventSink>(sink);
            b.ConfigureTriggersLogging();
            b.Services.AddAuthentication(TestAuthHandler.SchemeName)
                .AddScheme<AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
        },
        app =>
        {
            app.UseTriggersRequestLogging();
            app.Use((http, next) => // stands in for the host's correlation middleware
            {
                http.Items[RequestLogging.CorrelationIdItem] = http.Request.Headers["X-Correlation-Id"].ToString();
                return next(http);
            });
            app.UseAuthentication();
            app.MapGet("/api/v1/ping", () => Results.Ok());
            app.MapGet("/health/live", () => Results.Ok());
        });

    private static async Task<HttpResponseMessage> SendAsync(MinimalHost host, string path, string correlationId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Add("Authorization", $"Bearer {Token}");
        request.Headers.Add("X-Correlation-Id", correlationId);
        request.Headers.Add(TestAuthHandler.KeyIdHeader, "key_123");
        request.Headers.Add(TestAuthHandler.TenantHeader, "tenant-a");
        return await host.Client.SendAsync(request);
    }

    [Fact]
    public async Task Given_an_authenticated_request_When_it_completes_Then_one_event_carries_tenant_environment_key_id_and_correlation_id_and_no_header()
    {
        var sink = new CapturingSink();
        await using var host = await StartAsync("text", sink);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(host, "/api/v1/ping", "corr-1")).StatusCode);
        var completed = await sink.RequestCompletedAsync("/api/v1/ping");

        Assert.Equal(LogEventLevel.Information, completed.Level);
        Assert.Equal("\"tenant-a\"", completed.Properties["tenant"].ToString());
        Assert.Equal("\"dev\"", completed.Properties["environment"].ToString());
        Assert.Equal("\"key_123\"", completed.Properties["key_id"].ToString());
        Assert.Equal("\"corr-1\"", completed.Properties["correlation_id"].ToString());
        Assert.DoesNotContain(Token, sink.AsJson(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Given_a_health_probe_When_it_completes_Then_it_is_logged_at_verbose()
    {
        var sink = new CapturingSink();
        await using var host = await StartAsync("text", sink);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(host, "/health/live", "corr-2")).StatusCode);

        Assert.Equal(LogEventLevel.Verbose, (await sink.RequestCompletedAsync("/health/live")).Level);
    }

    [Fact]
    public async Task Given_the_json_format_When_a_request_completes_Then_the_console_gets_a_json_line_with_correlation_id_and_tenant_and_never_the_bearer_token()
    {
        var sink = new CapturingSink(); // only to know when the event has been written
        var original = Console.Out;
        using var console = new StringWriter();
        Console.SetOut(console);
        try
        {
            await using (var host = await StartAsync("json", sink))
            {
                Assert.Equal(HttpStatusCode.OK, (await SendAsync(host, "/api/v1/ping", "corr-json-3")).StatusCode);
                await sink.RequestCompletedAsync("/api/v1/ping");
            }
        }
        finally
        {
            Console.SetOut(original);
        }

        var output = console.ToString();
        var line = Assert.Single(output.Split('\n'), l => l.Contains("corr-json-3", StringComparison.Ordinal));
        Assert.StartsWith("{\"@t\":", line, StringComparison.Ordinal);
        Assert.Contains("\"correlation_id\":\"corr-json-3\"", line, StringComparison.Ordinal);
        Assert.Contains("\"tenant\":\"tenant-a\"", line, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, output, StringComparison.Ordinal);
    }
}
