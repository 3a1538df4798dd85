using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Host.Cli;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Audit;

/// <summary>Rebuilding a projection beside its live tables (issue 9, docs/adr/0016): while clients keep triggering runs and
/// reading lists, the executions read model is rebuilt from position 0 and switched in, and a compare-mode rebuild finds it
/// identical row for row to the one kept live — with no failed API call. The comparison itself is shown able to fail.</summary>
public sealed class ProjectionRebuildTests
{
    private const string Admin = "/api/v1/admin/projections";

    private static Dictionary<string, string?> Settings() => new()
    {
        // Small, paced pages: the replay takes many transactions (hundreds of milliseconds), interleaved with the traffic's appends.
        ["Projections:Rebuild:BatchSize"] = "10",
        ["Projections:Rebuild:PageDelay"] = "00:00:00.005",
    };

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_traffic_When_the_executions_projection_is_rebuilt_and_compared_Then_no_call_fails_and_the_rebuilt_rows_equal_the_live_ones(StoreKind kind)
    {
        await using var host = await ApiHost.StartAsync(kind, Settings());
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);
        var operatorClient = await host.ClientAsync("default", "dev", Permissions.Admin);
        var workflow = await CreateDefinitionAsync(client, """
            [ { "id": "a", "type": "set", "config": { "values": { "x": 1 } } },
              { "id": "b", "type": "set", "depends_on": ["a"], "config": { "values": { "y": 2 } } } ]
            """);
        var seeded = await Runtime.ExecutionsApi.ForEachAsync(Enumerable.Range(0, 120), 8, _ => TriggerAsync(client, workflow));
        var indexesBefore = await IndexNamesAsync(host, "executions");

        // Traffic: runs started, lists and single executions read, every call checked.
        var started = new ConcurrentBag<string>(seeded);
        var failures = new ConcurrentQueue<string>();
        var acceptedAt = new ConcurrentBag<DateTimeOffset>();
        var calls = 0;
        using var stop = new CancellationTokenSource();
        var traffic = Enumerable.Range(0, 3).Select(worker => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Call(async () =>
                {
                    var response = await client.PostJsonAsync($"{DefinitionsRoute}/{workflow}/trigger", new { TriggerData = new { worker } });
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        started.Add(Str((await response.JsonAsync())["execution_id"]));
                        acceptedAt.Add(DateTimeOffset.UtcNow);
                    }

                    return response;
                });
                await Call(() => client.GetAsync(Url($"{ExecutionsRoute}?workflow_id={workflow}&limit=20")));
                await Call(() => client.GetAsync(Url($"{ExecutionsRoute}?status=completed&limit=5")));
                await Call(() => client.GetAsync(Url($"{ExecutionsRoute}/{seeded[worker]}")));
                // Paced below the replay's speed (at 10 events a page): a rebuild chasing a faster stream of appends never ends.
                await Task.Delay(25);
            }
        })).ToList();

        async Task Call(Func<Task<HttpResponseMessage>> send)
        {
            Interlocked.Increment(ref calls);
            try
            {
                using var response = await send();
                if (!response.IsSuccessStatusCode)
                    failures.Enqueue($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode} " +
                                     await response.Content.ReadAsStringAsync());
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                failures.Enqueue(ex.ToString());
            }
        }

        await EventuallyAsync(() => Task.FromResult(acceptedAt.Count), n => n >= 10, "the traffic under way");

        // Switch: the live tables are replaced while the traffic goes on.
        var accepted = await operatorClient.PostJsonAsync($"{Admin}/executions/rebuild", new { Mode = "switch" });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal($"{Admin}/executions/rebuild", accepted.Headers.Location?.OriginalString);
        var rebuilt = await WaitForRebuildAsync(operatorClient, "executions");
        Assert.True(Str(rebuilt["state"]) == "completed", rebuilt.ToJsonString());
        Assert.Null(rebuilt["error"]);
        Assert.Equal(100, rebuilt["percent"]!.GetValue<double>());
        Assert.True(rebuilt["applied"]!.GetValue<long>() >= seeded.Count * 4, rebuilt.ToJsonString()); // started, 2 steps, completed
        Assert.True(rebuilt["events_per_second"]!.GetValue<double>() > 0, rebuilt.ToJsonString());

        // Compare, still under traffic: rebuilt from 0 again and held against the live (switched-in) tables at one checkpoint.
        var compared = await CompareAsync(operatorClient, "executions");
        var table = compared["comparison"]!.AsArray().Single()!;
        Assert.True(compared["identical"]!.GetValue<bool>(), compared.ToJsonString());
        Assert.True(table["live_rows"]!.GetValue<long>() >= seeded.Count, compared.ToJsonString());

        await stop.CancelAsync();
        await Task.WhenAll(traffic);
        Assert.True(failures.IsEmpty, $"{failures.Count} of {calls} API calls failed:\n{string.Join("\n", failures.Take(5))}");
        var (from, to) = (Time(rebuilt["started_at"]), Time(rebuilt["finished_at"]));
        Assert.True(acceptedAt.Any(t => t > from && t < to), $"no run was started while the switch rebuild ran ({from:O} – {to:O}; {calls} calls)");

        // The switched-in read model goes on: every run started, before, during and after the switch, is listed as completed.
        await EventuallyAsync(async () => await CountListedAsync(client, workflow), n => n == started.Count,
            $"all {started.Count} runs listed completed", seconds: 60);
        Assert.Equal(indexesBefore, await IndexNamesAsync(host, "executions"));
        var listed = await operatorClient.GetAsync(Url(Admin));
        var item = (await listed.JsonAsync())["items"]!.AsArray().Single(i => Str(i!["name"]) == "executions")!;
        Assert.True(item["rebuildable"]!.GetValue<bool>());
        Assert.Equal("compare", Str(item["rebuild"]!["mode"]));

        // The comparison can fail: one live row edited in the database differs from the rebuilt one.
        var database = host.Services.GetRequiredService<IStoreDatabase>();
        await using (var connection = await database.OpenConnectionAsync())
            Assert.Equal(1, await connection.ExecuteAsync(
                $"UPDATE {(kind == StoreKind.Postgres ? "executions.executions" : "executions_executions")} SET status = 'failed' WHERE execution_id = @id",
                new { id = seeded[0] }));
        var tampered = await CompareAsync(operatorClient, "executions");
        var differing = tampered["comparison"]!.AsArray().Single()!;
        Assert.False(tampered["identical"]!.GetValue<bool>(), tampered.ToJsonString());
        Assert.Equal((1L, 1L), (differing["only_live"]!.GetValue<long>(), differing["only_rebuilt"]!.GetValue<long>()));
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_every_read_model_When_each_is_rebuilt_Then_each_compares_identical_before_and_after_and_lists_are_unchanged(StoreKind kind)
    {
        await using var host = await ApiHost.StartAsync(kind, Settings());
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);
        var workflow = await CreateDefinitionAsync(client, """[ { "id": "s", "type": "set", "config": { "values": { "a": 1 } } } ]""");
        await WaitForStatusAsync(client, await TriggerAsync(client, workflow), "completed");
        // A schedule run now (a row in the schedules read model), then paused.
        var schedule = await Triggers.ScheduleTestApi.CreateScheduleAsync(client, workflow, "0 3 * * *", "Europe/Paris");
        var run = await (await client.PostAsync(Url($"/api/v1/triggers/{schedule}/run"), null)).JsonAsync();
        var runId = Str(run["execution_id"]);
        await EventuallyAsync(() => client.GetAsync(Url($"{ExecutionsRoute}/{runId}")), r => r.StatusCode == HttpStatusCode.OK, "the run started");
        await WaitForStatusAsync(client, runId, "completed", seconds: 30);
        Assert.True((await client.PostAsync(Url($"/api/v1/triggers/{schedule}/pause"), null)).IsSuccessStatusCode);
        var operatorClient = await host.ClientAsync("default", "dev", Permissions.Admin);

        var items = await EventuallyAsync(async () => (await (await operatorClient.GetAsync(Url(Admin))).JsonAsync())["items"]!.AsArray(),
            a => a.Where(i => Str(i!["kind"]) == "projection").All(i => i!["lag"]!.GetValue<long>() == 0), "every read model caught up");
        var rebuildable = items.Where(i => i!["rebuildable"]!.GetValue<bool>()).Select(i => Str(i!["name"])).Order().ToList();
        Assert.Equal(["definitions", "executions", "schedules", "tenancy", "triggers", "webhook-requests"], rebuildable);
        Assert.True(items.Where(i => Str(i!["kind"]) == "processor").All(i => !i!["rebuildable"]!.GetValue<bool>()));

        var listsBefore = await ListsAsync(client);
        foreach (var name in rebuildable)
        {
            var indexes = await IndexNamesAsync(host, name);
            Assert.True((await CompareAsync(operatorClient, name))["identical"]!.GetValue<bool>(), name);
            Assert.Equal(HttpStatusCode.Accepted, (await operatorClient.PostAsync(Url($"{Admin}/{name}/rebuild"), null)).StatusCode);
            var done = await WaitForRebuildAsync(operatorClient, name);
            Assert.True(Str(done["state"]) == "completed", done.ToJsonString());
            Assert.True((await CompareAsync(operatorClient, name))["identical"]!.GetValue<bool>(), name);
            Assert.Equal(indexes, await IndexNamesAsync(host, name));
        }

        Assert.Equal(listsBefore, await ListsAsync(client));
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    public async Task Given_bad_rebuild_requests_Then_each_gets_its_problem_and_nothing_starts(StoreKind kind)
    {
        await using var host = await ApiHost.StartAsync(kind);
        var operatorClient = await host.ClientAsync("default", "dev", Permissions.Admin);

        await (await operatorClient.GetAsync(Url($"{Admin}/executions/rebuild"))).ProblemAsync(404, "not-found");
        await (await operatorClient.PostAsync(Url($"{Admin}/no-such/rebuild"), null)).ProblemAsync(404, "not-found");
        var processor = await (await operatorClient.PostAsync(Url($"{Admin}/executions-triggered/rebuild"), null))
            .ProblemAsync(409, "projection-not-rebuildable");
        Assert.Contains("processor", Str(processor["detail"]), StringComparison.Ordinal);
        var badMode = await (await operatorClient.PostJsonAsync($"{Admin}/executions/rebuild", new { Mode = "sideways" })).ProblemAsync(400);
        Assert.NotNull(badMode["errors"]!["mode"]);
        var tenantAdmin = await host.ClientAsync("acme", "dev", Permissions.Admin);
        Assert.Equal(HttpStatusCode.Forbidden, (await tenantAdmin.PostAsync(Url($"{Admin}/executions/rebuild"), null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Anonymous().PostAsync(Url($"{Admin}/executions/rebuild"), null)).StatusCode);
        // None of them started one.
        await (await operatorClient.GetAsync(Url($"{Admin}/executions/rebuild"))).ProblemAsync(404, "not-found");
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_a_host_When_an_operator_runs_the_rebuild_verb_Then_it_prints_progress_and_exits_by_the_outcome(StoreKind kind)
    {
        await using var host = await ApiHost.StartAsync(kind);
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);
        var workflow = await CreateDefinitionAsync(client, """[ { "id": "s", "type": "set", "config": { "values": { "a": 1 } } } ]""");
        await WaitForStatusAsync(client, await TriggerAsync(client, workflow), "completed");

        await using var compare = new StringWriter();
        Assert.Equal(0, await AuditCli.RunAsync(host.Services, ["projections", "rebuild", "executions", "--mode", "compare"], compare));
        Assert.Contains("completed 100.0%", compare.ToString(), StringComparison.Ordinal);
        Assert.Contains("identical — live", compare.ToString(), StringComparison.Ordinal);

        await using var rebuild = new StringWriter();
        Assert.Equal(0, await AuditCli.RunAsync(host.Services, ["projections", "rebuild", "executions"], rebuild));
        Assert.Contains("executions (switch): completed", rebuild.ToString(), StringComparison.Ordinal);
        await WaitForStatusAsync(client, await TriggerAsync(client, workflow), "completed");
        await EventuallyAsync(async () => (await ListAsync(client, $"workflow_id={workflow}&status=completed"))["items"]!.AsArray().Count, n => n == 2,
            "both runs listed after the switch");

        await using var refused = new StringWriter();
        Assert.Equal(2, await AuditCli.RunAsync(host.Services, ["projections", "rebuild", "executions-triggered"], refused));
        Assert.Contains("event processor", refused.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, await AuditCli.RunAsync(host.Services, ["projections", "rebuild", "executions", "--mode", "sideways"], new StringWriter()));
    }

    private static async Task<JsonObject> CompareAsync(HttpClient operatorClient, string name)
    {
        var response = await operatorClient.PostJsonAsync($"{Admin}/{name}/rebuild", new { Mode = "compare" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var done = await WaitForRebuildAsync(operatorClient, name);
        Assert.True(Str(done["state"]) == "completed", done.ToJsonString());
        return done;
    }

    private static Task<JsonObject> WaitForRebuildAsync(HttpClient operatorClient, string name) =>
        EventuallyAsync(async () => await (await operatorClient.GetAsync(Url($"{Admin}/{name}/rebuild"))).JsonAsync(),
            r => Str(r["state"]) is not ("building" or "finishing"), $"the rebuild of {name} to end", seconds: 90);

    private static async Task<int> CountListedAsync(HttpClient client, string workflow)
    {
        var (count, cursor) = (0, (string?)null);
        do
        {
            var page = await ListAsync(client, $"workflow_id={workflow}&status=completed&limit=200" + (cursor is null ? "" : $"&cursor={cursor}"));
            count += page["items"]!.AsArray().Count;
            cursor = StrOrNull(page["next_cursor"]);
        } while (cursor is not null);
        return count;
    }

    private static async Task<string> ListsAsync(HttpClient client) =>
        string.Join("\n", await Task.WhenAll(
            new[] { ExecutionsRoute, DefinitionsRoute, "/api/v1/triggers" }.Select(async path => (await (await client.GetAsync(Url(path))).JsonAsync()).ToJsonString())));

    /// <summary>The index names of a projection's tables, as the catalog has them.</summary>
    private static async Task<string> IndexNamesAsync(ApiHost host, string projection)
    {
        var database = host.Services.GetRequiredService<IStoreDatabase>();
        var tables = host.Services.GetServices<BuildingBlocks.Projections.IProjection>().Single(p => p.Name == projection).Tables(database.Dialect);
        await using var connection = await database.OpenConnectionAsync();
        var names = new List<string>();
        foreach (var table in tables)
            names.AddRange(database.Dialect == StoreDialect.Postgres
                ? await connection.QueryAsync<string>("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = @table::regclass", new { table })
                : await connection.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = @table", new { table }));
        Assert.NotEmpty(names);
        return string.Join(",", names.Order(StringComparer.Ordinal));
    }
}
