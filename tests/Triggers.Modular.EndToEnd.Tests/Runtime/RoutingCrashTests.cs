using System.Data.Common;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
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
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "tm-e2e-routing-crash", Guid.NewGuid().ToString("N"));
    private TestPostgres.TestDatabase? _pg;
    private HostProcess? _host;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            _host.Dispose();
            output.WriteLine($"--- host output (tail) ---\n{Tail(_host.Output)}");
        }

        if (_pg is not null) await _pg.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_accepted_events_not_yet_routed_When_the_host_is_killed_and_restarted_Then_each_event_fires_each_trigger_once_and_starts_one_execution_each(
        StoreKind store)
    {
        var environment = await EnvironmentAsync(store);
        _host = await HostProcess.StartAsync(environment);
        var token = _host.FirstRunToken ?? throw new InvalidOperationException("No first-run key was printed:\n" + _host.Output);
        var accepted = new List<string>();
        using (var client = _host.Client(token))
        {
            var workflows = new[] { await CreateDefinitionAsync(client, Definition("A")), await CreateDefinitionAsync(client, Definition("B")) };
            // The declared triggers become routable through a processor: wait until the read model routing uses has both.
            await WaitUntilAsync(async () => await RoutableTriggersAsync(store) == workflows.Length, TimeSpan.FromSeconds(30),
                () => Task.FromResult("the triggers never became routable\n" + Tail(_host.Output)), pollMs: 200);

            // Bursts of 100, then four at once, answered just before the kill: 400 events accepted within a few milliseconds
            // cannot all have been routed yet (a single last batch sometimes was, on a quiet machine).
            for (var burst = 0; burst < 2; burst++) accepted.AddRange(await SendBatchAsync(client, 100));
            foreach (var batch in await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => SendBatchAsync(client, 100)))) accepted.AddRange(batch);
            _host.Kill();
            output.WriteLine($"{store}: killed after {accepted.Count} accepted events; {workflows.Length} workflows listen");
        }

        var routedAtKill = await CountDistinctEventsAsync(store, "triggers.trigger_fired") + await CountDistinctEventsAsync(store, "triggers.event_unrouted");
        var acceptedInStore = await CountAsync(store, "triggers.event_accepted");
        output.WriteLine($"at the kill: {acceptedInStore} accepted in the store, {routedAtKill} routed");
        Assert.True(acceptedInStore >= accepted.Count, $"the store holds {acceptedInStore} accepted events, fewer than the {accepted.Count} acknowledged");
        Assert.True(routedAtKill < acceptedInStore, "every accepted event was already routed at the kill: the scenario did not kill between acceptance and dispatch");

        _host.Dispose();
        _host = await HostProcess.StartAsync(environment);
        await WaitUntilAsync(async () => await CountAsync(store, "triggers.trigger_fired") == 2 * acceptedInStore
                                         && await CompletedExecutionsAsync(store) == 2 * acceptedInStore,
            TimeSpan.FromSeconds(90), async () => $"fired {await CountAsync(store, "triggers.trigger_fired")}, completed " +
                                                  $"{await CompletedExecutionsAsync(store)} of {2 * acceptedInStore}\n{Tail(_host.Output)}", pollMs: 500);

        // Exactly once: no event routed twice, no execution started twice, every acknowledged event among them.
        await Task.Delay(1000);
        Assert.Equal(2 * acceptedInStore, await CountAsync(store, "triggers.trigger_fired"));
        Assert.Equal(0, await CountAsync(store, "triggers.event_unrouted")); // both workflows listen to every event
        Assert.Equal(2 * acceptedInStore, await CountAsync(store, "executions.execution_started"));
        Assert.Equal(2 * acceptedInStore, await CompletedExecutionsAsync(store));
        var routed = (await AcceptedIdsAsync(store, routedOnly: true)).ToHashSet(StringComparer.Ordinal);
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

    private async Task<DbConnection> OpenAsync(StoreKind store)
    {
        DbConnection connection = store == StoreKind.Postgres
            ? new NpgsqlConnection(_pg!.ConnectionString)
            : new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(_folder, "store.db"), Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static string Events(StoreKind store) => store == StoreKind.Postgres ? "event_store.events" : "es_events";

    private async Task<long> CountAsync(StoreKind store, string type)
    {
        await using var c = await OpenAsync(store);
        return await c.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {Events(store)} WHERE type = @type", new { type });
    }

    private async Task<long> CountDistinctEventsAsync(StoreKind store, string type)
    {
        await using var c = await OpenAsync(store);
        return await c.ExecuteScalarAsync<long>($"SELECT COUNT(DISTINCT stream_name) FROM {Events(store)} WHERE type = @type", new { type });
    }

    private async Task<long> RoutableTriggersAsync(StoreKind store)
    {
        await using var c = await OpenAsync(store);
        var table = store == StoreKind.Postgres ? "triggers.triggers" : "triggers_triggers";
        try
        {
            return await c.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table} WHERE event_name = @name AND enabled = @enabled", new { name = EventName, enabled = true });
        }
        catch (DbException)
        {
            return 0; // not migrated yet
        }
    }

    private async Task<long> CompletedExecutionsAsync(StoreKind store)
    {
        await using var c = await OpenAsync(store);
        return await c.ExecuteScalarAsync<long>($"SELECT COUNT(DISTINCT stream_name) FROM {Events(store)} WHERE type = 'executions.execution_completed'");
    }

    /// <summary>The ids of accepted events (<c>event-{id}</c> streams), or of those with a routing decision.</summary>
    private async Task<IEnumerable<string>> AcceptedIdsAsync(StoreKind store, bool routedOnly = false)
    {
        await using var c = await OpenAsync(store);
        var streams = await c.QueryAsync<string>($"SELECT DISTINCT stream_name FROM {Events(store)} WHERE type = @type",
            new { type = routedOnly ? "triggers.trigger_fired" : "triggers.event_accepted" });
        return streams.Select(s => s["event-".Length..]);
    }

    private async Task<Dictionary<string, string>> EnvironmentAsync(StoreKind store)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["Executions__Runtime__PollIntervalSeconds"] = "0.2" };
        if (store == StoreKind.Postgres)
        {
            _pg = await TestPostgres.CreateDatabaseAsync();
            environment["EventStore__Provider"] = "postgres";
            environment["EventStore__Postgres__ConnectionString"] = _pg.ConnectionString;
        }
        else
        {
            Directory.CreateDirectory(_folder);
            environment["EventStore__Provider"] = "sqlite";
            environment["EventStore__Sqlite__Path"] = Path.Combine(_folder, "store.db");
        }

        return environment;
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : text[^4000..];
}
