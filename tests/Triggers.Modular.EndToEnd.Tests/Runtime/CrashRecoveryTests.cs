using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Xunit.Abstractions;
using static Triggers.Modular.EndToEnd.Tests.Runtime.ExecutionsApi;

namespace Triggers.Modular.EndToEnd.Tests.Runtime;

/// <summary>
/// The embedded runtime survives <c>kill -9</c> (ADR 0011): the real host runs as a separate process whose http steps call
/// a target server in the test process; the process is killed while steps are in flight, or while a retry back-off is
/// pending, and started again on the same store. Every execution must then complete, each step's completion recorded
/// exactly once, every step delivered at least once.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Executions = 20;
    private static readonly string[] Steps = ["s1", "s2", "s3"];

    private TargetServer _target = null!;
    private ProcessStore? _store;
    private HostProcess? _host;

    public enum Scenario
    {
        /// <summary>Killed while step 2 of every execution is in flight (requests arrived at the target and are held).</summary>
        StepsInFlight,

        /// <summary>Killed while step 2 of every execution waits out its back-off after a 503.</summary>
        RetryBackOffPending,
    }

    public static TheoryData<StoreKind, Scenario> Cases => new()
    {
        { StoreKind.Sqlite, Scenario.StepsInFlight },
        { StoreKind.Sqlite, Scenario.RetryBackOffPending },
        { StoreKind.Postgres, Scenario.StepsInFlight },
        { StoreKind.Postgres, Scenario.RetryBackOffPending },
    };

    public async Task InitializeAsync() => _target = await TargetServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            var exited = _host.HasExited;
            _host.Dispose();
            output.WriteLine($"--- host output (tail; {(exited ? "it had exited" : "killed at the end")}) ---\n{Tail(_host)}");
        }

        await _target.DisposeAsync();
        if (_store is not null) await _store.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Given_a_host_killed_mid_execution_When_it_restarts_on_the_same_store_Then_every_execution_completes_with_each_step_completed_exactly_once(
        StoreKind store, Scenario scenario)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var environment = await EnvironmentAsync(store);
        _host = await HostProcess.StartAsync(environment);
        var token = _host.FirstRunToken ?? throw new InvalidOperationException("No first-run key was printed:\n" + _host.Output);
        string[] ids;
        DateTimeOffset killedAt;
        using (var client = _host.Client(token))
        {
            var definition = await CreateDefinitionAsync(client, Definition(_target.BaseUrl, initialIntervalSeconds: 6));
            if (scenario == Scenario.StepsInFlight) _target.Hold("/s2");
            else _target.FailFirst("/s2", 1);

            ids = (await ForEachAsync(Enumerable.Range(1, Executions), 4, n => TriggerAsync(client, definition, new { n }))).ToArray();
            Assert.Equal(Executions, ids.Distinct().Count());

            if (scenario == Scenario.StepsInFlight)
            {
                // Every execution's step 2 request has reached the target and is being held there. (On a slow machine the first
                // ones may already have hit their 3 s timeout and wait for a retry: those are not interrupted, just retried.)
                await WaitUntilAsync(() => Task.FromResult(_target.HeldKeys.Count >= Executions && _target.HeldNow >= 1), TimeSpan.FromSeconds(60),
                    () => Task.FromResult($"{_target.HeldKeys.Count} of {Executions} step-2 keys held, {_target.HeldNow} now; " +
                        $"requests: {_target.Requests.Count}\n{Tail(_host)}"));
            }
            else
            {
                // Every execution's step 2 got its 503 and the back-off is recorded.
                var waiting = new HashSet<string>(StringComparer.Ordinal);
                await WaitUntilAsync(async () =>
                {
                    foreach (var id in ids.Where(i => !waiting.Contains(i)))
                        if ((await HistoryAsync(client, id)).Any(e => Type(e) == "executions.step_retry_scheduled"))
                            waiting.Add(id);
                    return waiting.Count == Executions;
                }, TimeSpan.FromSeconds(60), () => Task.FromResult($"{waiting.Count} of {Executions} executions wait for a retry\n{Tail(_host)}"));
            }

            var held = _target.HeldNow;
            killedAt = DateTimeOffset.UtcNow;
            _host.Kill();
            output.WriteLine($"{scenario} on {store}: killed {clock.Elapsed.TotalSeconds:0.0} s after the start with {held} step requests held");
        }

        _target.Release();
        _host.Dispose();
        _host = null;
        _host = await HostProcess.StartAsync(environment);
        Assert.Null(_host.FirstRunToken); // the same store: no second first run

        using var again = _host.Client(token);
        var statuses = new Dictionary<string, string>(StringComparer.Ordinal);
        await WaitUntilAsync(async () =>
        {
            foreach (var id in ids.Where(i => !statuses.TryGetValue(i, out var s) || s != "completed"))
            {
                var status = (await GetExecutionAsync(again, id))["status"]!.GetValue<string>();
                statuses[id] = status;
                Assert.True(status is not ("failed" or "cancelled"),
                    $"{id} ended {status}: {await GetExecutionAsync(again, id)}\n{string.Join('\n', (await HistoryAsync(again, id)).Select(e => e.ToJsonString()))}");
            }

            return statuses.Count == Executions && statuses.Values.All(s => s == "completed");
        }, TimeSpan.FromSeconds(60), async () =>
        {
            var stuck = statuses.Where(s => s.Value != "completed").Select(s => s.Key).FirstOrDefault();
            var detail = stuck is null ? "" : $"\n{stuck}: {await GetExecutionAsync(again, stuck)}";
            return $"statuses: {string.Join(", ", statuses.GroupBy(s => s.Value).Select(g => $"{g.Key}={g.Count()}"))}{detail}\n{Tail(_host)}";
        }, pollMs: 500);

        output.WriteLine($"all {Executions} completed {clock.Elapsed.TotalSeconds:0.0} s after the start ({(DateTimeOffset.UtcNow - killedAt).TotalSeconds:0.0} s after the kill)");
        var interrupted = 0;
        var retriedAfterKill = 0;
        foreach (var id in ids)
        {
            var history = await HistoryAsync(again, id);
            var completions = CompletionsPerStep(history);
            foreach (var step in Steps)
            {
                Assert.True(completions.GetValueOrDefault(step) == 1,
                    $"{id} step {step} completed {completions.GetValueOrDefault(step)} times:\n{string.Join('\n', history.Select(e => e.ToJsonString()))}");
                Assert.True(_target.CallsOf($"{id}:{step}") >= 1, $"the target never saw {id}:{step}");
            }

            Assert.Single(history, e => Type(e) == "executions.execution_completed");
            var execution = await GetExecutionAsync(again, id);
            Assert.All(execution["steps"]!.AsArray(), s => Assert.Equal("completed", s!["status"]!.GetValue<string>()));

            var starts = history.Where(e => Type(e) == "executions.step_started").GroupBy(e => (StepId(e), Attempt(e))).ToList();
            if (starts.Any(g => g.Count() > 1))
            {
                interrupted++;
                // The earlier delivery shows as interrupted among the step's attempts.
                var redelivered = starts.First(g => g.Count() > 1).Key.Item1;
                var attempts = execution["steps"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == redelivered)!["attempts"]!.AsArray();
                Assert.Contains(attempts, a => a!["outcome"]!.GetValue<string>() == "interrupted");
            }

            if (scenario == Scenario.RetryBackOffPending)
            {
                var s2 = history.Where(e => StepId(e) == "s2" || Type(e) == "executions.execution_started").ToList();
                var retry = history.First(e => Type(e) == "executions.step_retry_scheduled" && StepId(e) == "s2");
                if (retry["data"]!["due_at"]!.GetValue<DateTimeOffset>() > killedAt) retriedAfterKill++;
                Assert.True(history.Single(e => Type(e) == "executions.step_completed" && StepId(e) == "s2")["data"]!["attempt"]!.GetValue<int>() >= 2,
                    string.Join('\n', s2.Select(e => e.ToJsonString())));
                Assert.True(_target.CallsOf($"{id}:s2") >= 2, $"{id}:s2 was called {_target.CallsOf($"{id}:s2")} times");
            }
        }

        output.WriteLine($"{interrupted} executions show a redelivered attempt; {retriedAfterKill} had their back-off running at the kill");
        if (scenario == Scenario.StepsInFlight)
        {
            Assert.True(interrupted >= 1, "no execution shows a redelivered (interrupted) step attempt");
            Assert.All(ids, id => Assert.True(_target.CallsOf($"{id}:s2") >= 2, $"{id}:s2 was called {_target.CallsOf($"{id}:s2")} times"));
        }
        else
        {
            Assert.True(retriedAfterKill >= 1, "the kill came after every back-off had run out: the scenario did not kill during a back-off");
        }
    }

    private async Task<Dictionary<string, string>> EnvironmentAsync(StoreKind store)
    {
        _store = await ProcessStore.CreateAsync(store, "tm-e2e-crash");
        return _store.Environment(new()
        {
            ["Executions__Http__AllowedNetworks__0"] = "127.0.0.1/32",
            ["Executions__Runtime__PollIntervalSeconds"] = "0.2",
            ["Executions__Runtime__LeaseGraceSeconds"] = "1",
        });
    }

    /// <summary>Three http steps in order, each bounded by 3 s (so a dead worker's lease ends 3 s + grace after it began).</summary>
    private static string Definition(string target, int initialIntervalSeconds)
    {
        var steps = new JsonArray();
        foreach (var (step, order) in Steps.Select((s, i) => (s, i + 1)))
        {
            steps.Add(new JsonObject
            {
                ["id"] = step,
                ["order"] = order,
                ["type"] = "http",
                ["timeout_seconds"] = 3,
                ["config"] = new JsonObject
                {
                    ["method"] = "POST",
                    ["url"] = $"{target}/{step}",
                    ["body"] = new JsonObject { ["step"] = step },
                    ["timeout_seconds"] = 3,
                },
            });
        }

        return new JsonObject
        {
            ["name"] = "Crash recovery",
            ["trigger"] = new JsonObject { ["type"] = "manual" },
            ["steps"] = steps,
            ["enabled"] = true,
            ["retry_policy"] = new JsonObject
            {
                ["max_attempts"] = 5,
                ["initial_interval_seconds"] = initialIntervalSeconds,
                ["backoff_coefficient"] = 1.5,
                ["max_interval_seconds"] = 10,
            },
        }.ToJsonString();
    }

    private static string Tail(HostProcess? host) => host?.OutputTail(6000) ?? "";
}
