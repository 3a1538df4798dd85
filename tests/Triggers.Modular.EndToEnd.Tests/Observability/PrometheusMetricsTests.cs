using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.Host.Observability;

namespace Triggers.Modular.EndToEnd.Tests.Observability;

public sealed class PrometheusMetricsTests
{
    [Fact]
    public async Task Given_a_request_to_a_route_with_a_parameter_When_metrics_are_scraped_Then_it_is_counted_under_the_route_template()
    {
        await using var host = await MinimalHost.StartAsync(
            [],
            b => b.Services.AddPrometheusMetrics(),
            app =>
            {
                app.UsePrometheusHttpMetrics();
                app.MapPrometheusMetrics();
                app.MapGet("/things/{id}", (string id) => Results.Ok(id));
            });

        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync(new Uri("/things/secret-id-42", UriKind.Relative))).StatusCode);
        var scrape = await host.Client.GetAsync(new Uri("/metrics", UriKind.Relative));
        var text = await scrape.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Equal("text/plain", scrape.Content.Headers.ContentType?.MediaType);
        Assert.Contains("http_requests_received_total", text, StringComparison.Ordinal);
        Assert.Contains("http_request_duration_seconds", text, StringComparison.Ordinal);
        Assert.Contains("endpoint=\"/things/{id}\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-id-42", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Given_a_dotnet_meter_When_it_records_Then_the_scrape_exports_it()
    {
        await using var host = await MinimalHost.StartAsync(
            [],
            b => b.Services.AddPrometheusMetrics(),
            app => app.MapPrometheusMetrics());

        // No scrape before this: the host starts the meter adapter, so a measurement taken before any scrape counts.
        EventStoreMetrics.HeldBackReads.Add(1);
        var text = await host.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Contains("all_reads_held_back", text, StringComparison.Ordinal);
    }
}
