using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.Contracts.Steps;
using Xunit.Abstractions;
using static Triggers.Modular.EndToEnd.Tests.Runtime.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Runtime;

/// <summary>
/// Two host instances on one PostgreSQL database share the work (ADR 0011): no step attempt is ever delivered twice at
/// once, and each step's completion is recorded exactly once, whichever instance started the execution or ran the step.
/// </summary>
public sealed class TwoInstancesTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Executions = 1000;
    private static readonly string[] Steps = ["p1", "p2", "p3"];

    private readonly ProbeRecorder _recorder = new();
    private ApiHost _a = null!;
    private ApiHost _b = null!;

    public async Task InitializeAsync()
    {
        // Instance a runs 1 attempt at a time, so the work handed to it in-process backs up while its rows wait, due, in
        // the work table; instance b (32 at a time) claims them from there and races a for the same attempts.
        _a = await ApiHost.StartAsync(StoreKind.Postgres, Settings(maxConcurrency: 1), Probe("a"));
        var shared = Settings(maxConcurrency: 32);
        shared["EventStore:Provider"] = "postgres";
        shared["EventStore:Postgres:ConnectionString"] = _a.PostgresConnectionString;
        _b = await ApiHost.StartAsync(StoreKind.Sqlite, shared, Probe("b")); // the SQLite path it also gets is never used
    }

    public async Task DisposeAsync()
    {
        if (_b is not null) await _b.DisposeAsync();
        if (_a is not null) await _a.DisposeAsync(); // drops the database
    }

    private static Dictionary<string, string?> Settings(int maxConcurrency) => new()
    {
        ["Executions:Runtime:PollIntervalSeconds"] = "0.2",
        ["Executions:Runtime:LeaseGraceSeconds"] = "1",
        ["Executions:Runtime:MaxConcurrency"] = maxConcurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Serilog:MinimumLevel:Override:Npgsql"] = "Warning", // a line per SQL command would slow both instances down
    };

    private Action<IServiceCollection> Probe(string instance) => services =>
    {
        services.AddSingleton(new ProbeInstance(instance, _recorder));
        services.AddStepType<ProbeStepType>();
        services.AddStepHandler<ProbeStepHandler>();
    };

    [Fact]
    public async Task Given_two_instances_on_one_database_When_1000_executions_start_on_both_Then_no_attempt_runs_twice_at_once_and_each_step_completes_once()
    {
        var clock = Stopwatch.StartNew();
        var key = (await _a.IssueKeyAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute)).Token;
        using var clientA = _a.WithToken(key);
        using var clientB = _b.WithToken(key);
        await WaitUntilAsync(async () => (await clientB.GetAsync(Url("/api/v1/me"))).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(20),
            () => Task.FromResult("instance b does not accept the key issued on instance a"));

        var definition = await CreateDefinitionAsync(clientA, Definition());

        // Half the executions start on each instance, through its Executions facade (what the trigger route and the
        // dispatchers call), eight at a time: quick enough that instance a's in-process work backs up behind its single slot.
        var started = await ForEachAsync(Enumerable.Range(0, Executions), 8, async n =>
        {
            var (host, on) = n % 2 == 0 ? (_a, "a") : (_b, "b");
            var result = await host.Services.GetRequiredService<IExecutionsModule>().StartAsync(new StartExecution(PrefixedId.New("exec"), "acme", "dev",
                definition, null, "api", $"probe-{n}", JsonSerializer.SerializeToElement(new { n })));
            Assert.True(result.Created);
            return (Id: result.ExecutionId, On: on);
        });
        var ids = started.Select(s => s.Id).ToList();
        var startedOn = started.ToDictionary(s => s.Id, s => s.On, StringComparer.Ordinal);
        Assert.Equal(Executions, ids.Distinct(StringComparer.Ordinal).Count());
        output.WriteLine($"started {Executions} executions in {clock.Elapsed.TotalSeconds:0.0} s");

        var completed = 0;
        await WaitUntilAsync(async () =>
        {
            completed = await CountAsync(clientA, "completed");
            if (completed < Executions)
            {
                var failed = await CountAsync(clientB, "failed");
                Assert.True(failed == 0, $"{failed} executions failed");
            }

            return completed == Executions;
        }, TimeSpan.FromSeconds(120), () => Task.FromResult(
            $"{completed} of {Executions} completed; deliveries by instance: {string.Join(", ", _recorder.ByInstance.Select(p => $"{p.Key}={p.Value}"))}"),
            pollMs: 1000);
        output.WriteLine($"all completed after {clock.Elapsed.TotalSeconds:0.0} s; deliveries: " +
            string.Join(", ", _recorder.ByInstance.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}")));

        // No attempt was ever delivered twice at once; without crashes, none was delivered twice at all.
        Assert.True(_recorder.MaxOverlap == 1, $"max overlap {_recorder.MaxOverlap}: {string.Join("; ", _recorder.Overlaps.Take(10))}");
        var repeated = _recorder.Deliveries.Where(d => d.Value > 1).Select(d => $"{d.Key} x{d.Value}").ToList();
        Assert.True(repeated.Count == 0, $"{repeated.Count} attempts delivered more than once: {string.Join("; ", repeated.Take(10))}");
        Assert.Equal(Executions * Steps.Length, _recorder.Deliveries.Count);

        // Both instances ran steps, and the work was shared through the store: some steps ran on the instance that did not
        // start their execution (taken from the work table, racing the other instance's in-process hand-over).
        Assert.True(_recorder.ByInstance.GetValueOrDefault("a") > 0 && _recorder.ByInstance.GetValueOrDefault("b") > 0,
            $"work was not shared: {string.Join(", ", _recorder.ByInstance.Select(p => $"{p.Key}={p.Value}"))}");
        var crossed = _recorder.RanOn.Count(r => r.Value != startedOn[r.Key[..r.Key.IndexOf(':', StringComparison.Ordinal)]]);
        output.WriteLine($"{crossed} of {_recorder.RanOn.Count} step attempts ran on the instance that did not start their execution");
        Assert.True(crossed > 0, "no step ran on the instance that did not start its execution: the instances never took work from the table");

        // Every execution's stream: completed once, each step completed exactly once (read from the store, all of them).
        var store = _a.Services.GetRequiredService<IEventStore>();
        var streams = await ForEachAsync(ids, 8, async id =>
        {
            var events = await store.ReadStreamAsync(ExecutionEventTypes.StreamFor(id), ReadDirection.Forward, 0, 1000);
            return (Id: id, Events: events);
        });
        var totalCompletions = 0;
        foreach (var (id, events) in streams)
        {
            var completions = events.Where(e => e.Type == ExecutionEventTypes.StepCompleted)
                .GroupBy(e => JsonNode.Parse(e.Data)!["step_id"]!.GetValue<string>()).ToDictionary(g => g.Key, g => g.Count());
            totalCompletions += completions.Values.Sum();
            Assert.True(Steps.All(s => completions.GetValueOrDefault(s) == 1) && completions.Count == Steps.Length,
                $"{id}: step completions {string.Join(", ", completions.Select(p => $"{p.Key}={p.Value}"))}; events: " +
                string.Join(", ", events.Select(e => e.Type)));
            Assert.Single(events, e => e.Type == ExecutionEventTypes.Completed);
        }

        Assert.Equal(Executions * Steps.Length, totalCompletions);

        // A sample through the API, alternating instances: the history shows the same.
        foreach (var (id, i) in ids.Take(50).Select((id, i) => (id, i)))
        {
            var client = i % 2 == 0 ? clientA : clientB;
            var history = await HistoryAsync(client, id);
            var completions = CompletionsPerStep(history);
            Assert.True(Steps.All(s => completions.GetValueOrDefault(s) == 1), $"{id}: {string.Join(", ", completions)}");
            var execution = await GetExecutionAsync(client, id);
            Assert.Equal("completed", execution["status"]!.GetValue<string>());
            Assert.All(execution["steps"]!.AsArray(), s => Assert.Equal("completed", s!["status"]!.GetValue<string>()));
        }

        output.WriteLine($"done after {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>Executions with this status, counted page by page through the list endpoint.</summary>
    private static async Task<int> CountAsync(HttpClient client, string status)
    {
        var count = 0;
        string? cursor = null;
        do
        {
            var page = await GetObjectAsync(client,
                $"{ExecutionsApi.Executions}?status={status}&limit=200" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"));
            count += page["items"]!.AsArray().Count;
            cursor = page["next_cursor"]?.GetValue<string>();
        }
        while (cursor is not null);

        return count;
    }

    private static string Definition() => new JsonObject
    {
        ["name"] = "Two instances",
        ["trigger"] = new JsonObject { ["type"] = "manual" },
        ["steps"] = new JsonArray(Steps.Select((s, i) => (JsonNode)new JsonObject
        {
            ["id"] = s,
            ["order"] = i + 1,
            ["type"] = ProbeStepType.TypeName,
            ["config"] = new JsonObject { ["n"] = i + 1 },
        }).ToArray()),
        ["enabled"] = true,
    }.ToJsonString();
}
