using System.Net;
using System.Text;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.EndToEnd.Tests.Support;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;
using static Triggers.Modular.EndToEnd.Tests.Support.PrometheusScrape;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary>The receiver's metrics (issue 7) reach the Prometheus scrape: requests by outcome and verification time.</summary>
public sealed class WebhookMetricsTests
{
    // Meter "Triggers.Modular.Triggers" → the exporter's prefix.
    private const string Requests = "triggers_modular_triggers_webhook_requests";
    private const string Verification = "triggers_modular_triggers_webhook_verification_duration";

    [Fact]
    public async Task Given_accepted_and_refused_webhook_requests_When_metrics_are_scraped_Then_each_outcome_and_the_verification_time_grew()
    {
        await using var host = await ApiHost.StartAsync();
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite);
        var anonymous = host.Anonymous();
        var workflow = await CreateDefinitionAsync(client, """[ { "id": "s", "type": "set", "config": { "values": { "v": 1 } } } ]""");
        var created = await (await client.PostJsonAsync("/api/v1/triggers",
            new { WorkflowId = workflow, Name = "hook", Type = "webhook", Config = new { AuthType = "bearer", Method = "POST" } })).JsonAsync();
        var id = Str(created["id"]);
        var token = Str(created["webhook_secret"]);

        var before = await ScrapeAsync(anonymous);
        Assert.Equal(HttpStatusCode.Accepted, await SendAsync(anonymous, HttpMethod.Post, id, token));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(anonymous, HttpMethod.Post, id, "wrong"));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(anonymous, HttpMethod.Post, id, "wrong"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, await SendAsync(anonymous, HttpMethod.Put, id, token));
        var after = await ScrapeAsync(anonymous);

        // Other tests of this process may record too (the meter is shared): at least this test's requests are counted.
        Assert.True(Sum(after, Requests, "outcome=\"accepted\"") - Sum(before, Requests, "outcome=\"accepted\"") >= 1, after);
        Assert.True(Sum(after, Requests, "outcome=\"401\"") - Sum(before, Requests, "outcome=\"401\"") >= 2, after);
        Assert.True(Sum(after, Requests, "outcome=\"405\"") - Sum(before, Requests, "outcome=\"405\"") >= 1, after);
        Assert.True(Sum(after, Verification, "auth_type=\"bearer\"", "_count") - Sum(before, Verification,
            "auth_type=\"bearer\"", "_count") >= 3, after);
    }

    private static async Task<string> ScrapeAsync(HttpClient client) => await client.GetStringAsync(Url("/metrics"));

    private static async Task<HttpStatusCode> SendAsync(HttpClient client, HttpMethod method, string triggerId, string token)
    {
        using var request = new HttpRequestMessage(method, Url($"/api/webhooks/{triggerId}")) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Add("Authorization", "Bearer " + token);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
