using System.Data.Common;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Xunit.Abstractions;
using static Triggers.Modular.EndToEnd.Tests.Runtime.ExecutionsApi;

namespace Triggers.Modular.EndToEnd.Tests.Runtime;

/// <summary>
/// Routing survives <c>kill -9</c> between acceptance and dispatch (issue 6): the real host runs as its own process; two
/// workflows listen to one event name; batches of events are accepted (the last four at once) and the host is killed right
/// after their 202s, while the dispatcher is still behind (the test proves, from the store, that accepted events were left
/// unrouted at the kill). After a restart on the same store every accepted event is routed once — two firings each — and each firing
/// started exactly one execution, which completed.
/// </summary>
public sealed class RoutingCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string EventName = "crash.order_placed";
    private ProcessStore? _store;
    private HostProcess? _host;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            _host.Dispose();
            output.WriteLine($"--- host output (tail) ---\n{_host.OutputTail()}");
        }

        if (_store is not null) await _store.DisposeAsync();
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_accepted_events_not_yet_routed_When_the_host_is_killed_and_restarted_Then_each_event_fires_each_trigger_once_and_starts_one_execution_each(
        StoreKind store)
    {
        _store = await ProcessStore.CreateAsync(store, "tm-e2e-routing-crash");
        var environment = _store.Environment(new() { ["Executions__Runtime__PollIntervalSeconds"] = "0.2" });
        _host = await HostProcess.StartAsync(environment);
        var token = _host.FirstRunToken ?? throw new InvalidOperationException("No first-run key was printed:\n" + _host.Output);
        var accepted = new List<string>();
        using (var client = _host.Client(token))
        {
            var workflows = new[] { await CreateDefinitionAsync(client, Definition("A")), await CreateDefinitionAsync(client, Definition("B")) };
            // The declared triggers become routable through a processor: wait until the read model routing uses has both.
            await WaitUntilAsync(async () => await RoutableTriggersAsync() == workflows.Length, TimeSpan.FromSeconds(30),
                () => Task.FromResult("the triggers never became routable\n" + _host.OutputTail()), pollMs: 200);

            // Bursts of 100, then four at once, answered just before the kill: 400 events accepted within a few milliseconds
            // cannot all have been routed yet (a single last batch sometimes was, on a quiet machine).
            for (var burst = 0; burst < 2; burst++) accepted.AddRange(await SendBatchAsync(client, 100));
            foreach (var batch in await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => SendBatchAsync(client, 100)))) accepted.AddRange(batch);
            _host.Kill();
            output.WriteLine($"{store}: killed after {accepted.Count} accepted events; {workflows.Length} workflows listen");
        }

        var routedAtKill = await CountDistinctEventsAsync("triggers.trigger_fired") + await CountDistinctEventsAsync("triggers.event_unrouted");
        var acceptedInStore = await _store.CountAsync("triggers.event_accepted");
        output.WriteLine($"at the kill: {acceptedInStore} accepted in the store, {routedAtKill} routed");
        Assert.True(acceptedInStore >= accepted.Count, $"the store holds {acceptedInStore} accepted events, fewer than the {accepted.Count} acknowledged");
        Assert.True(routedAtKill < acceptedInStore, "every accepted event was already routed at the kill: the scenario did not kill between acceptance and dispatch");

        _host.Dispose();
        _host = await HostProcess.StartAsync(environment);
        await WaitUntilAsync(async () => await _store.CountAsync("triggers.trigger_fired") == 2 * acceptedInStore
                                         && await CompletedExecutionsAsync() == 2 * acceptedInStore,
            TimeSpan.FromSeconds(90), async () => $"fired {await _store.CountAsync("triggers.trigger_fired")}, completed " +
                                                  $"{await CompletedExecutionsAsync()} of {2 * acceptedInStore}\n{_host.OutputTail()}", pollMs: 500);

        // Exactly once: no event routed twice, no execution started twice, every acknowledged event among them.
        await Task.Delay(1000);
        Assert.Equal(2 * acceptedInStore, await _store.CountAsync("triggers.trigger_fired"));
        Assert.Equal(0, await _store.CountAsync("triggers.event_unrouted")); // both workflows listen to every event
        Assert.Equal(2 * acceptedInStore, await _store.CountAsync("executions.execution_started"));
        Assert.Equal(2 * acceptedInStore, await CompletedExecutionsAsync());
        var routed = (await AcceptedIdsAsync(routedOnly: true)).ToHashSet(StringComparer.Ordinal);
        Assert.All(accepted, id => Assert.Contains(id, routed));
    }

    private static string Definition(string name) => new JsonObject
    {
        ["name"] = $"Routing crash {name}",
        ["trigger"] = new JsonObject { ["type"] = "event", ["event_name"] = EventName },
        ["steps"] = JsonNode.Parse("""[ { "id": "s", "type": "set", "config": { "values": { "n": "{{ trigger.n }}" } } } ]"""),
    }.ToJsonString();

    private static async Task<List<string>> SendBatchAsync(HttpClient client, int count)
    {
        var events = new JsonArray();
        for (var i = 0; i < count; i++) events.Add(new JsonObject { ["name"] = EventName, ["payload"] = new JsonObject { ["n"] = i } });
        var response = await client.PostAsync(new Uri("/api/v1/events/batch", UriKind.Relative),
            new StringContent(new JsonObject { ["events"] = events }.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        return [.. JsonNode.Parse(text)!["results"]!.AsArray().Select(r => r!["event_id"]!.GetValue<string>())];
    }

    private async Task<long> CountDistinctEventsAsync(string type)
    {
        await using var c = await _store!.OpenAsync();
        return await c.ExecuteScalarAsync<long>($"SELECT COUNT(DISTINCT stream_name) FROM {_store.Events} WHERE type = @type", new { type });
    }

    private async Task<long> RoutableTriggersAsync()
    {
        await using var c = await _store!.OpenAsync();
        var table = _store.Kind == StoreKind.Postgres ? "triggers.triggers" : "triggers_triggers";
        try
        {
            return await c.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table} WHERE event_name = @name AND enabled = @enabled", new { name = EventName, enabled = true });
        }
        catch (DbException)
        {
            return 0; // not migrated yet
        }
    }

    private async Task<long> CompletedExecutionsAsync()
    {
        await using var c = await _store!.OpenAsync();
        return await c.ExecuteScalarAsync<long>($"SELECT COUNT(DISTINCT stream_name) FROM {_store.Events} WHERE type = 'executions.execution_completed'");
    }

    /// <summary>The ids of accepted events (<c>event-{id}</c> streams), or of those with a routing decision.</summary>
    private async Task<IEnumerable<string>> AcceptedIdsAsync(bool routedOnly = false)
    {
        await using var c = await _store!.OpenAsync();
        var streams = await c.QueryAsync<string>($"SELECT DISTINCT stream_name FROM {_store.Events} WHERE type = @type",
            new { type = routedOnly ? "triggers.trigger_fired" : "triggers.event_accepted" });
        return streams.Select(s => s["event-".Length..]);
    }
}
