using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Executions;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;

namespace Triggers.Modular.Temporal.Tests;

/// <summary>With Temporal down, the host still takes events and records executions (they start on Temporal once it answers,
/// through the dispatcher's checkpoint); readiness says the worker is not running and why.</summary>
public sealed class TemporalUnreachableTests
{
    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_no_temporal_server_answering_When_the_host_runs_Then_it_keeps_recording_executions_and_reports_the_worker_degraded(StoreKind kind)
    {
        await using var host = await TemporalTestHosts.StartAsync(kind, new StepProbe(), new Dictionary<string, string?>
        {
            ["Executions:Runtime:Mode"] = "temporal",
            ["Temporal:Address"] = "127.0.0.1:1", // nothing listens there
        });
        var api = await TemporalTestHosts.ClientAsync(host);

        var execution = await TriggerAsync(api, await CreateDefinitionAsync(api, """[ { "id": "a", "type": "flaky" } ]"""));
        await Task.Delay(TimeSpan.FromSeconds(3)); // several failed connections later: the host still serves

        var ready = await api.GetAsync(EndToEnd.Tests.Support.Http.Url("/health/ready"));
        Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Degraded", await ready.Content.ReadAsStringAsync());
        var run = await GetAsync(api, execution);
        Assert.Equal("pending", Str(run["status"])); // recorded, run by nothing here: the embedded runtime is off
        Assert.Empty(Assert.IsType<System.Text.Json.Nodes.JsonArray>(Step(run, "a")["attempts"]));
        var again = await TriggerAsync(api, await CreateDefinitionAsync(api, """[ { "id": "a", "type": "flaky" } ]"""));
        Assert.Equal("pending", Str((await GetAsync(api, again))["status"]));
    }

    [Fact]
    public async Task Given_a_server_that_accepts_connections_and_never_answers_When_the_host_runs_Then_the_worker_is_not_reported_ready_and_the_host_stops_promptly()
    {
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start(); // the kernel accepts connections into the backlog; nothing ever answers
        var host = await TemporalTestHosts.StartAsync(StoreKind.Sqlite, new StepProbe(), new Dictionary<string, string?>
        {
            ["Executions:Runtime:Mode"] = "temporal",
            ["Temporal:Address"] = $"127.0.0.1:{((System.Net.IPEndPoint)silent.LocalEndpoint).Port}",
        });
        try
        {
            var api = await TemporalTestHosts.ClientAsync(host);
            for (var i = 0; i < 4; i++)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                var ready = await api.GetAsync(EndToEnd.Tests.Support.Http.Url("/health/ready"));
                Assert.Equal("Degraded", await ready.Content.ReadAsStringAsync()); // the worker never got a connection
            }
        }
        finally
        {
            var stopping = System.Diagnostics.Stopwatch.StartNew();
            await host.DisposeAsync();
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(15), $"the host took {stopping.Elapsed} to stop");
        }
    }
}
