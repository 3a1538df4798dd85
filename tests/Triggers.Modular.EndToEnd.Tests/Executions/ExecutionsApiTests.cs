using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Executions;

/// <summary>
/// Executions over real HTTP with the embedded runtime (SPEC §5, ADR 0011): ordering, parallelism, conditions, retries,
/// failures, timeout, cancel, retry, delay, manual triggers, paging and isolation. Test step types (<c>flaky</c>,
/// <c>fail</c>, <c>slow</c>, <c>toggle</c>, <c>count</c>) report to a <see cref="StepProbe"/> keyed by execution and step.
/// </summary>
public sealed class ExecutionsApiTests(ExecutionsHosts hosts) : IClassFixture<ExecutionsHosts>
{
    private const string Tenant = "acme";
    private const string Env = "dev";

    private StepProbe Probe => hosts.Probe;

    private async Task<(ApiHost Host, HttpClient Client)> StartAsync(StoreKind kind = StoreKind.Sqlite)
    {
        var host = await hosts.GetAsync(kind);
        return (host, await host.ClientAsync(Tenant, Env, Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute));
    }

    private static int Count(IEnumerable<string> types, string type) => types.Count(t => t == "executions." + type);

    private static string[] Outcomes(JsonObject step) => [.. step["attempts"]!.AsArray().Select(a => Str(a!["outcome"]))];

    // ---------------------------------------------------------------- 1. ordered steps, templating, history, list

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_three_ordered_set_steps_When_triggered_with_data_Then_they_complete_in_order_with_templated_outputs_history_and_list(StoreKind kind)
    {
        var (_, client) = await StartAsync(kind);
        var workflow = await CreateDefinitionAsync(client, """
            [ { "id": "a", "order": 1, "type": "set", "name": "Name", "config": { "values": { "name": "{{ trigger.x }}" } } },
              { "id": "b", "order": 2, "type": "set", "config": { "values": { "greeting": "hello {{ steps.a.output.name }}" } } },
              { "id": "c", "order": 3, "type": "set", "config": { "values": { "n": 3 } } } ]
            """);
        var other = await CreateDefinitionAsync(client, """[ { "id": "z", "type": "set", "config": { "values": { "v": 1 } } } ]""");

        var id = await TriggerAsync(client, workflow, new { x = "ada" });
        var done = await WaitForStatusAsync(client, id, "completed");

        Assert.Equal(workflow, Str(done["workflow_id"]));
        Assert.Equal(1, done["workflow_version"]!.GetValue<int>());
        Assert.Equal("manual", Str(done["trigger_type"]));
        Assert.Equal("ada", Str(done["trigger_data"]!["x"]));
        Assert.NotNull(done["finished_at"]);
        Assert.Null(done["error"]);
        Assert.Equal(["a", "b", "c"], done["steps"]!.AsArray().Select(s => Str(s!["id"])));
        Assert.All(done["steps"]!.AsArray(), s => Assert.Equal("completed", Str(s!["status"])));
        Assert.Equal("Name", Str(Step(done, "a")["name"]));
        Assert.Equal("set", Str(Step(done, "a")["type"]));
        Assert.Equal("ada", Str(Step(done, "a")["output"]!["name"]));
        Assert.Equal("hello ada", Str(Step(done, "b")["output"]!["greeting"]));
        Assert.Equal(3, Step(done, "c")["output"]!["n"]!.GetValue<int>());
        // one after the other: each step started once its predecessor had finished
        Assert.True(Time(Step(done, "b")["started_at"]) >= Time(Step(done, "a")["finished_at"]), done.ToJsonString());
        Assert.True(Time(Step(done, "c")["started_at"]) >= Time(Step(done, "b")["finished_at"]), done.ToJsonString());
        Assert.All(done["steps"]!.AsArray(), s => Assert.Equal(["completed"], Outcomes(s!.AsObject())));

        var history = await HistoryAsync(client, id);
        Assert.Equal(id, Str(history["execution_id"]));
        var events = history["events"]!.AsArray();
        string[] perStep = ["step_scheduled", "step_started", "step_completed"];
        Assert.Equal(
            ["execution_started", .. perStep, .. perStep, .. perStep, "execution_completed"],
            events.Select(e => Str(e!["type"])["executions.".Length..]));
        Assert.Equal(["a", "a", "a", "b", "b", "b", "c", "c", "c"], events.Skip(1).Take(9).Select(e => Str(e!["data"]!["step_id"])));
        var revisions = events.Select(e => e!["revision"]!.GetValue<long>()).ToList();
        Assert.Equal(Enumerable.Range((int)revisions[0], revisions.Count).Select(r => (long)r), revisions);

        var listed = await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflow}&status=completed"), l => Ids(l).Contains(id),
            "the list to show the completed execution");
        var item = listed["items"]!.AsArray().Single(i => Str(i!["id"]) == id)!;
        Assert.Equal("manual", Str(item["trigger_type"]));
        Assert.Equal(workflow, Str(item["workflow_id"]));
        Assert.Contains(id, Ids(await ListAsync(client, $"workflow_id={workflow}&trigger_type=manual")));
        Assert.Contains(id, Ids(await ListAsync(client, "status=completed&limit=200")));
        Assert.DoesNotContain(id, Ids(await ListAsync(client, $"workflow_id={workflow}&status=failed")));
        Assert.DoesNotContain(id, Ids(await ListAsync(client, $"workflow_id={workflow}&trigger_type=event")));
        Assert.DoesNotContain(id, Ids(await ListAsync(client, $"workflow_id={other}")));
        var createdAt = Time(item["created_at"]);
        string At(DateTimeOffset t) => Uri.EscapeDataString(t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains(id, Ids(await ListAsync(client, $"workflow_id={workflow}&from={At(createdAt.AddSeconds(-5))}&to={At(createdAt.AddSeconds(5))}")));
        Assert.DoesNotContain(id, Ids(await ListAsync(client, $"workflow_id={workflow}&from={At(createdAt.AddSeconds(5))}")));
        Assert.DoesNotContain(id, Ids(await ListAsync(client, $"workflow_id={workflow}&to={At(createdAt.AddSeconds(-5))}")));
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_set_and_delay_steps_When_run_Then_they_run_inline_appended_with_the_decision_that_made_them_due_with_the_usual_events(StoreKind kind)
    {
        var (host, client) = await StartAsync(kind);
        var sets = await CreateDefinitionAsync(client, """
            [ { "id": "a", "order": 1, "type": "set", "config": { "values": { "x": "{{ trigger.n }}" } } },
              { "id": "b", "order": 2, "type": "set", "config": { "values": { "y": "{{ steps.a.output.x }}" } } },
              { "id": "c", "order": 3, "type": "set", "config": { "values": { "z": "{{ steps.b.output.y }}" } } } ]
            """);
        var mixed = await CreateDefinitionAsync(client, """
            [ { "id": "a", "order": 1, "type": "count" },
              { "id": "b", "order": 2, "type": "set", "config": { "values": { "calls": "{{ steps.a.output.calls }}" } } },
              { "id": "c", "order": 3, "type": "delay", "config": { "until": "2020-01-01T00:00:00Z" } } ]
            """);

        var allSets = await TriggerAsync(client, sets, new { n = 7 });
        var withCount = await TriggerAsync(client, mixed);
        var setsDone = await WaitForStatusAsync(client, allSets, "completed");
        var mixedDone = await WaitForStatusAsync(client, withCount, "completed");

        Assert.Equal(7, Step(setsDone, "c")["output"]!["z"]!.GetValue<int>());
        Assert.Equal(1, Step(mixedDone, "b")["output"]!["calls"]!.GetValue<int>());
        Assert.Equal("2020-01-01T00:00:00Z", Str(Step(mixedDone, "c")["output"]!["until"]));
        string[] perStep = ["executions.step_scheduled", "executions.step_started", "executions.step_completed"];
        string[] expected = ["executions.execution_started", .. perStep, .. perStep, .. perStep, "executions.execution_completed"];
        Assert.Equal(expected, await HistoryTypesAsync(client, allSets));
        Assert.Equal(expected, await HistoryTypesAsync(client, withCount));
        Assert.All(new[] { setsDone, mixedDone }, done => Assert.All(done["steps"]!.AsArray(), s => Assert.Equal(["completed"], Outcomes(s!.AsObject()))));

        // All three set steps ran in the start's decision: one write. With a handler that calls out first: the start, the
        // handler's begin, then its outcome with everything that followed from it.
        Assert.Equal(1, await host.AppendsToStreamAsync($"execution-{allSets}"));
        Assert.Equal(3, await host.AppendsToStreamAsync($"execution-{withCount}"));
        Assert.Equal(1, Probe.Calls(withCount, "a"));
    }

    [Fact]
    public async Task Given_five_executions_When_listed_with_limit_2_Then_three_pages_newest_first_without_duplicates_or_gaps()
    {
        var (_, client) = await StartAsync();
        var workflow = await CreateDefinitionAsync(client, """[ { "id": "a", "type": "set", "config": { "values": { "i": "{{ trigger.i }}" } } } ]""");
        var ids = new List<string>();
        for (var i = 0; i < 5; i++) ids.Add(await TriggerAsync(client, workflow, new { i }));
        foreach (var id in ids) await WaitForStatusAsync(client, id, "completed");
        var all = await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflow}&status=completed&limit=200"), l => Ids(l).Length == 5,
            "the five executions to be listed as completed");
        Assert.Equal(ids.Order(StringComparer.Ordinal), Ids(all).Order(StringComparer.Ordinal));

        var pages = new List<string[]>();
        string? cursor = null;
        do
        {
            var page = await ListAsync(client, $"workflow_id={workflow}&limit=2" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"));
            Assert.Equal(2, page["limit"]!.GetValue<int>());
            pages.Add(Ids(page));
            cursor = StrOrNull(page["next_cursor"]);
            Assert.True(pages.Count <= 5, "paging does not end");
        }
        while (cursor is not null);

        Assert.Equal([2, 2, 1], pages.Select(p => p.Length));
        var paged = pages.SelectMany(p => p).ToList();
        Assert.Equal(Ids(all), paged); // the same order as one big page: no duplicates, no gaps
        // Newest first by the list's key: created_at to the millisecond (created_ms), ties by id — executions started side by
        // side (the trigger processor starts a page in parallel) can share a millisecond, and their sub-millisecond times
        // need not follow their ids.
        var created = all["items"]!.AsArray().Select(i => Time(i!["created_at"]).ToUnixTimeMilliseconds()).ToList();
        Assert.Equal(created.OrderDescending(), created); // newest first
        Assert.Equal(Enumerable.Reverse(ids), paged); // and the last triggered is first
    }

    [Fact]
    public async Task Given_bad_list_parameters_When_listing_Then_400_with_the_field()
    {
        var (_, client) = await StartAsync();
        foreach (var (query, field) in new[] { ("status=bogus", "status"), ("limit=0", "limit"), ("limit=201", "limit"), ("cursor=nonsense", "cursor"),
                     ("trigger_type=fax", "trigger_type"), ("workflow_id=nope", "workflow_id"),
                     ("from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z", "to") })
        {
            var problem = await (await client.GetAsync(Url($"{ExecutionsRoute}?{query}"))).ProblemAsync(400);
            Assert.True(problem["errors"]?[field] is not null, $"{query}: {problem.ToJsonString()}");
        }
    }

    // ---------------------------------------------------------------- 2. parallel steps

    [Fact]
    public async Task Given_two_slow_steps_of_the_same_order_When_run_Then_both_run_at_once_and_the_next_order_waits_for_both()
    {
        var (_, client) = await StartAsync();
        var workflow = await CreateDefinitionAsync(client, """
            [ { "id": "p", "order": 1, "type": "slow" }, { "id": "q", "order": 1, "type": "slow" },
              { "id": "after", "order": 2, "type": "set", "config": { "values": { "done": true } } } ]
            """);
        var id = await TriggerAsync(client, workflow);
        try
        {
            // Neither is released before both handlers are inside: sequential steps would never get here.
            await Probe.WaitEnteredAsync(id, "p");
            await Probe.WaitEnteredAsync(id, "q");
            var running = await EventuallyAsync(() => GetAsync(client, id),
                e => Str(Step(e, "p")["status"]) == "running" && Str(Step(e, "q")["status"]) == "running", "both steps to be shown running");
            Assert.Equal("running", Str(running["status"]));
            Assert.Equal("pending", Str(Step(running, "after")["status"]));
        }
        finally
        {
            Probe.Release(id);
        }

        var done = await WaitForStatusAsync(client, id, "completed");
        var lastParallel = new[] { Time(Step(done, "p")["finished_at"]), Time(Step(done, "q")["finished_at"]) }.Max();
        Assert.True(Time(Step(done, "after")["started_at"]) >= lastParallel, done.ToJsonString());
        Assert.True(Step(done, "p")["output"]!["released"]!.GetValue<bool>());
    }

    // ---------------------------------------------------------------- 3. conditions

    [Fact]
    public async Task Given_a_false_condition_When_run_Then_that_step_and_its_dependents_are_skipped_others_run_and_the_execution_completes()
    {
        var (_, client) = await StartAsync();
        var workflow = await CreateDefinitionAsync(client, """
            [ { "id": "a", "order": 1, "type": "set", "config": { "values": { "x": 1 } } },
              { "id": "b", "order": 2, "type": "set", "condition": { "path": "steps.a.output.x", "op": "eq", "value": 2 },
                "config": { "values": { "y": 1 } } },
              { "id": "c", "order": 3, "type": "set", "depends_on": ["b"], "config": { "values": { "z": 1 } } },
              { "id": "d", "order": 3, "type": "set", "depends_on": ["a"], "condition": { "path": "steps.a.output.x", "op": "eq", "value": 1 },
                "config": { "values": { "w": "{{ steps.a.output.x }}" } } } ]
            """);
        var id = await TriggerAsync(client, workflow);
        var done = await WaitForStatusAsync(client, id, "completed");

        Assert.Equal("completed", Str(Step(done, "a")["status"]));
        Assert.Equal("skipped", Str(Step(done, "b")["status"]));
        Assert.Equal("condition_false", Str(Step(done, "b")["reason_code"]));
        Assert.False(string.IsNullOrEmpty(StrOrNull(Step(done, "b")["reason"])));
        Assert.Null(Step(done, "b")["output"]);
        Assert.Empty(Step(done, "b")["attempts"]!.AsArray());
        Assert.Equal("skipped", Str(Step(done, "c")["status"]));
        Assert.Equal("dependency_not_completed", Str(Step(done, "c")["reason_code"]));
        Assert.Equal("completed", Str(Step(done, "d")["status"]));
        Assert.Equal("1", Step(done, "d")["output"]!["w"]!.ToString());

        var types = await HistoryTypesAsync(client, id);
        Assert.Equal(2, Count(types, "step_skipped"));
        Assert.Equal(2, Count(types, "step_started")); // a and d only
    }

    // ---------------------------------------------------------------- 4. retries

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_a_step_failing_retryably_twice_When_run_Then_the_third_attempt_completes_after_backoff_and_history_keeps_each_attempt(StoreKind kind)
    {
        var (_, client) = await StartAsync(kind);
        var workflow = await CreateDefinitionAsync(client, """
            [ { "id": "f", "order": 1, "type": "flaky", "config": { "failures": 2 } },
              { "id": "after", "order": 2, "type": "set", "config": { "values": { "got": "{{ steps.f.output.calls }}" } } } ]
            """);
        var id = await TriggerAsync(client, workflow);
        var done = await WaitForStatusAsync(client, id, "completed");

        var f = Step(done, "f");
        Assert.Equal("completed", Str(f["status"]));
        Assert.Equal(3, f["attempt"]!.GetValue<int>());
        Assert.Equal(3, f["output"]!["calls"]!.GetValue<int>());
        Assert.Equal(3, f["output"]!["attempt"]!.GetValue<int>());
        Assert.Equal(["failed", "failed", "completed"], Outcomes(f));
        Assert.Equal([1, 2, 3], f["attempts"]!.AsArray().Select(a => a!["attempt"]!.GetValue<int>()));
        Assert.All(f["attempts"]!.AsArray().Take(2), a => Assert.Equal("flaky_error", Str(a!["error"]!["code"])));
        Assert.Null(f["error"]);
        Assert.Equal(3, Probe.Calls(id, "f"));
        Assert.Equal("3", Step(done, "after")["output"]!["got"]!.ToString());

        var history = await HistoryAsync(client, id);
        var events = history["events"]!.AsArray().Select(e => e!.AsObject()).ToList();
        var types = events.Select(e => Str(e["type"])).ToList();
        Assert.True(Count(types, "step_failed") == 2, history.ToJsonString());
        Assert.True(Count(types, "step_retry_scheduled") == 2, history.ToJsonString());
        // each attempt delivered once: no redelivery while nothing crashed
        Assert.True(events.Count(e => Str(e["type"]) == "executions.step_started" && Str(e["data"]!["step_id"]) == "f") == 3, history.ToJsonString());
        // exponential back-off without jitter: 0.1 s, then 0.2 s
        var backoffs = events.Where(e => Str(e["type"]) == "executions.step_retry_scheduled")
            .Select(e => (Time(e["data"]!["due_at"]) - Time(e["data"]!["at"])).TotalMilliseconds).ToList();
        Assert.Equal([100d, 200d], backoffs.Select(b => Math.Round(b)));
        Assert.Equal([2, 3], events.Where(e => Str(e["type"]) == "executions.step_retry_scheduled").Select(e => e["data"]!["next_attempt"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Given_a_step_failing_non_retryably_When_run_Then_the_execution_fails_at_once_earlier_outputs_kept_later_steps_skipped()
    {
        var (_, client) = await StartAsync();
        var workflow = await CreateDefinitionAsync(client, """
            [ { "id": "a", "order": 1, "type": "set", "config": { "values": { "kept": "yes" } } },
              { "id": "f", "order": 2, "type": "fail", "config": { "code": "bad_input" } },
              { "id": "c", "order": 3, "type": "set", "config": { "values": { "v": 1 } } },
              { "id": "d", "order": 3, "type": "set", "config": { "values": { "v": 2 } } } ]
            """);
        var id = await TriggerAsync(client, workflow);
        var failed = await WaitForStatusAsync(client, id, "failed");

        Assert.Equal("step_failed", Str(failed["error"]!["reason"]));
        Assert.Equal("f", Str(failed["error"]!["step_id"]));
        Assert.Equal("bad_input", Str(failed["error"]!["code"]));
        Assert.False(string.IsNullOrEmpty(StrOrNull(failed["error"]!["message"])));
        Assert.NotNull(failed["finished_at"]);
        Assert.Equal("completed", Str(Step(failed, "a")["status"]));
        Assert.Equal("yes", Str(Step(failed, "a")["output"]!["kept"]));
        var f = Step(failed, "f");
        Assert.Equal("failed", Str(f["status"]));
        Assert.Equal("bad_input", Str(f["error"]!["code"]));
        Assert.Equal(1, f["attempt"]!.GetValue<int>());
        Assert.Equal(["failed"], Outcomes(f));
        foreach (var later in new[] { "c", "d" })
        {
            Assert.Equal("skipped", Str(Step(failed, later)["status"]));
            Assert.Equal("execution_failed", Str(Step(failed, later)["reason_code"]));
        }

        Assert.Equal(1, Probe.Calls(id, "f"));
        var types = await HistoryTypesAsync(client, id);
        Assert.Equal(0, Count(types, "step_retry_scheduled"));
        Assert.Equal("executions.execution_failed", types[^1]);
        var listed = await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflow}&status=failed"), l => Ids(l).Contains(id),
            "the list to show the failed execution");
        Assert.Equal("bad_input", Str(listed["items"]![0]!["error"]!["code"]));
    }

    [Fact]
    public async Task Given_a_step_that_keeps_failing_When_its_attempts_run_out_Then_the_execution_fails_with_step_failed_after_max_attempts()
    {
        var (_, client) = await StartAsync();
        var workflow = await CreateDefinitionAsync(client, """
            [ { "id": "f", "order": 1, "type": "flaky", "config": { "failures": 100 } },
              { "id": "after", "order": 2, "type": "set", "config": { "values": { "v": 1 } } } ]
            """);
        var id = await TriggerAsync(client, workflow);
        var failed = await WaitForStatusAsync(client, id, "failed");

        Assert.Equal("step_failed", Str(failed["error"]!["reason"]));
        Assert.Equal("f", Str(failed["error"]!["step_id"]));
        Assert.Equal("flaky_error", Str(failed["error"]!["code"]));
        var f = Step(failed, "f");
        Assert.Equal("failed", Str(f["status"]));
        Assert.Equal(3, f["attempt"]!.GetValue<int>());
        Assert.Equal(["failed", "failed", "failed"], Outcomes(f));
        Assert.Equal("skipped", Str(Step(failed, "after")["status"]));
        Assert.Equal(3, Probe.Calls(id, "f"));
        var types = await HistoryTypesAsync(client, id);
        Assert.Equal(3, Count(types, "step_failed"));
        Assert.Equal(2, Count(types, "step_retry_scheduled"));
    }

    // ---------------------------------------------------------------- 7. timeout

    [Fact]
    public async Task Given_a_timeout_When_a_step_runs_past_it_Then_the_execution_fails_timed_out_keeping_completed_outputs()
    {
        var (_, client) = await StartAsync();
        var workflow = await CreateDefinitionAsync(client, """
            [ { "id": "a", "order": 1, "type": "set", "config": { "values": { "kept": "yes" } } },
              { "id": "s", "order": 2, "type": "slow" },
              { "id": "c", "order": 3, "type": "set", "config": { "values": { "v": 1 } } } ]
            """, "\"timeout_seconds\": 1");
        var watch = Stopwatch.StartNew();
        var id = await TriggerAsync(client, workflow);
        try
        {
            await Probe.WaitEnteredAsync(id, "s");
            var started = await GetAsync(client, id);
            Assert.NotNull(started["timeout_at"]);
            var failed = await WaitForStatusAsync(client, id, "failed");
            Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.9), $"failed after {watch.Elapsed}");
            Assert.True(Time(failed["finished_at"]) >= Time(failed["timeout_at"]), failed.ToJsonString());

            Assert.Equal("timed_out", Str(failed["error"]!["reason"]));
            Assert.Equal("completed", Str(Step(failed, "a")["status"]));
            Assert.Equal("yes", Str(Step(failed, "a")["output"]!["kept"]));
            Assert.Equal("cancelled", Str(Step(failed, "s")["status"]));
            Assert.Equal("skipped", Str(Step(failed, "c")["status"]));
            await Probe.WaitCancelledAsync(id, "s"); // the running handler was told to stop
        }
        finally
        {
            Probe.Release(id);
        }

        // a late outcome changes nothing
        Assert.Equal("failed", Str((await GetAsync(client, id))["status"]));
    }

    [Fact]
    public async Task Given_a_timed_out_execution_When_retried_Then_the_cancelled_step_runs_again_under_a_new_deadline_and_completes()
    {
        var (_, client) = await StartAsync();
        var workflow = await CreateDefinitionAsync(client, """
            [ { "id": "a", "order": 1, "type": "count" },
              { "id": "s", "order": 2, "type": "slow" },
              { "id": "c", "order": 3, "type": "set", "config": { "values": { "v": 1 } } } ]
            """, "\"timeout_seconds\": 1");
        var id = await TriggerAsync(client, workflow);
        var failed = await WaitForStatusAsync(client, id, "failed");
        Assert.Equal("timed_out", Str(failed["error"]!["reason"]));
        var firstDeadline = Time(failed["timeout_at"]);

        Probe.Release(id); // the step now finishes at once
        var response = await client.PostAsync(Url($"{ExecutionsRoute}/{id}/retry"), null);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var done = await WaitForStatusAsync(client, id, "completed");

        Assert.True(Time(done["timeout_at"]) > firstDeadline, done.ToJsonString());
        Assert.Equal(1, Probe.Calls(id, "a"));
        Assert.Equal(2, Probe.Calls(id, "s"));
        Assert.Equal(["cancelled", "completed"], Outcomes(Step(done, "s")));
        Assert.Equal("completed", Str(Step(done, "c")["status"]));
    }

    // ---------------------------------------------------------------- 8. cancel

    [Fact]
    public async Task Given_a_running_execution_When_cancelled_Then_it_is_cancelled_its_steps_stop_and_the_handler_token_fires()
    {
        var (_, client) = await StartAsync();
        var workflow = await CreateDefinitionAsync(client, """
            [ { "id": "a", "order": 1, "type": "set", "config": { "values": { "kept": "yes" } } },
              { "id": "s", "order": 2, "type": "slow" },
              { "id": "c", "order": 3, "type": "set", "config": { "values": { "v": 1 } } } ]
            """);
        var id = await TriggerAsync(client, workflow);
        try
        {
            await Probe.WaitEnteredAsync(id, "s");

            var response = await client.PostJsonAsync($"{ExecutionsRoute}/{id}/cancel", new { Reason = "operator stop" });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var accepted = await response.JsonAsync();
            Assert.Equal(id, Str(accepted["execution_id"]));
            Assert.Equal("cancelled", Str(accepted["status"]));

            var cancelled = await WaitForStatusAsync(client, id, "cancelled");
            Assert.True(cancelled["cancel_requested"]!.GetValue<bool>());
            Assert.NotNull(cancelled["finished_at"]);
            Assert.Equal("completed", Str(Step(cancelled, "a")["status"]));
            Assert.Equal("yes", Str(Step(cancelled, "a")["output"]!["kept"]));
            Assert.Equal("cancelled", Str(Step(cancelled, "s")["status"]));
            Assert.Equal(["cancelled"], Outcomes(Step(cancelled, "s")));
            Assert.Equal("cancelled", Str(Step(cancelled, "c")["status"]));
            await Probe.WaitCancelledAsync(id, "s");

            // cancelling again is a no-op
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync(Url($"{ExecutionsRoute}/{id}/cancel"), null)).StatusCode);
            var types = await HistoryTypesAsync(client, id);
            Assert.Equal(1, Count(types, "execution_cancel_requested"));
            Assert.Equal(1, Count(types, "execution_cancelled"));
            Assert.Equal(2, Count(types, "step_cancelled"));
            Assert.Equal("executions.execution_cancelled", types[^1]);
            var requested = (await HistoryAsync(client, id))["events"]!.AsArray().Single(e => Str(e!["type"]) == "executions.execution_cancel_requested")!;
            Assert.Equal("operator stop", Str(requested["data"]!["reason"]));
            await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflow}&status=cancelled"), l => Ids(l).Contains(id),
                "the list to show the cancelled execution");
        }
        finally
        {
            Probe.Release(id);
        }

        Assert.Equal("cancelled", Str((await GetAsync(client, id))["status"]));
        Assert.Equal(1, Probe.Calls(id, "s"));
    }

    [Fact]
    public async Task Given_a_finished_execution_When_cancelled_or_a_non_failed_one_retried_Then_409()
    {
        var (_, client) = await StartAsync();
        var workflow = await CreateDefinitionAsync(client, """[ { "id": "a", "type": "set", "config": { "values": { "v": 1 } } } ]""");
        var id = await TriggerAsync(client, workflow);
        await WaitForStatusAsync(client, id, "completed");

        await (await client.PostAsync(Url($"{ExecutionsRoute}/{id}/cancel"), null)).ProblemAsync(409);
        await (await client.PostAsync(Url($"{ExecutionsRoute}/{id}/retry"), null)).ProblemAsync(409);
        Assert.Equal("completed", Str((await GetAsync(client, id))["status"]));

        var tooLong = await (await client.PostJsonAsync($"{ExecutionsRoute}/{id}/cancel", new { Reason = new string('r', 501) })).ProblemAsync(400);
        Assert.NotNull(tooLong["errors"]!["reason"]);
        await (await client.PostAsync(Url($"{ExecutionsRoute}/{id}/cancel"), Json("{ \"reason\": "))).ProblemAsync(400);
        await (await client.PostAsync(Url($"{ExecutionsRoute}/exec_01JD0000000000000000000000/cancel"), null)).ProblemAsync(404);
        await (await client.GetAsync(Url($"{ExecutionsRoute}/exec_01JD0000000000000000000000"))).ProblemAsync(404);
        await (await client.GetAsync(Url($"{ExecutionsRoute}/not-an-id"))).ProblemAsync(404);
    }

    // ---------------------------------------------------------------- 9. retry

    [Fact]
    public async Task Given_a_failed_execution_When_retried_Then_it_reruns_from_the_failed_step_keeping_completed_outputs()
    {
        var (_, client) = await StartAsync();
        var workflow = await CreateDefinitionAsync(client, """
            [ { "id": "a", "order": 1, "type": "count" },
              { "id": "t", "order": 2, "type": "toggle" },
              { "id": "c", "order": 3, "type": "set", "config": { "values": { "from_a": "{{ steps.a.output.nonce }}" } } } ]
            """);
        var id = await TriggerAsync(client, workflow);
        var failed = await WaitForStatusAsync(client, id, "failed");
        var outputBefore = Step(failed, "a")["output"]!.DeepClone();
        Assert.Equal("not_yet", Str(failed["error"]!["code"]));
        Assert.Equal("skipped", Str(Step(failed, "c")["status"]));
        Assert.Equal(0, failed["retries"]!.GetValue<int>());

        Probe.Allow(id);
        var response = await client.PostAsync(Url($"{ExecutionsRoute}/{id}/retry"), null);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var done = await WaitForStatusAsync(client, id, "completed");

        Assert.Equal(1, done["retries"]!.GetValue<int>());
        Assert.Null(done["error"]);
        Assert.True(JsonNode.DeepEquals(outputBefore, Step(done, "a")["output"]), $"{outputBefore.ToJsonString()} != {Step(done, "a")["output"]!.ToJsonString()}");
        Assert.Equal(1, Probe.Calls(id, "a"));
        Assert.Equal(["completed"], Outcomes(Step(done, "a")));
        var t = Step(done, "t");
        Assert.Equal("completed", Str(t["status"]));
        Assert.Equal(["failed", "completed"], Outcomes(t));
        Assert.Equal([1, 2], t["attempts"]!.AsArray().Select(a => a!["attempt"]!.GetValue<int>()));
        Assert.Equal(2, Probe.Calls(id, "t"));
        Assert.Equal("completed", Str(Step(done, "c")["status"]));
        Assert.Equal(Str(outputBefore["nonce"]), Str(Step(done, "c")["output"]!["from_a"]));

        var types = await HistoryTypesAsync(client, id);
        Assert.Equal(1, Count(types, "execution_retried"));
        Assert.Equal(1, Count(types, "execution_failed"));
        Assert.Equal("executions.execution_completed", types[^1]);
        await (await client.PostAsync(Url($"{ExecutionsRoute}/{id}/retry"), null)).ProblemAsync(409);
        await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflow}&status=completed"), l => Ids(l).Contains(id),
            "the list to show the retried execution completed");
    }

    // ---------------------------------------------------------------- 10. delay

    [Fact]
    public async Task Given_a_one_second_delay_step_When_run_Then_it_sleeps_durably_and_completes_after_at_least_a_second()
    {
        var (_, client) = await StartAsync();
        var workflow = await CreateDefinitionAsync(client, """
            [ { "id": "wait", "order": 1, "type": "delay", "config": { "seconds": 1 } },
              { "id": "after", "order": 2, "type": "set", "config": { "values": { "v": 1 } } } ]
            """);
        var watch = Stopwatch.StartNew();
        var id = await TriggerAsync(client, workflow);
        var sleeping = await EventuallyAsync(() => GetAsync(client, id), e => Step(e, "wait")["waiting_until"] is not null
            || Str(Step(e, "wait")["status"]) == "completed", "the delay step to sleep");
        Assert.Equal("running", Str(Step(sleeping, "wait")["status"]));
        Assert.Equal("pending", Str(Step(sleeping, "after")["status"]));
        var until = Time(Step(sleeping, "wait")["waiting_until"]);

        var done = await WaitForStatusAsync(client, id, "completed");
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1), $"completed after {watch.Elapsed}");
        var wait = Step(done, "wait");
        Assert.True(Time(wait["finished_at"]) - Time(wait["started_at"]) >= TimeSpan.FromSeconds(0.99), done.ToJsonString());
        Assert.True(Time(wait["finished_at"]) >= until, done.ToJsonString());
        Assert.True(Time(Step(done, "after")["started_at"]) >= until, done.ToJsonString());
        Assert.Equal(1, Count(await HistoryTypesAsync(client, id), "step_sleeping"));
    }

    // ---------------------------------------------------------------- 11. manual trigger

    [Fact]
    public async Task Given_a_definition_When_triggered_manually_Then_202_with_the_execution_id_status_and_location()
    {
        var (_, client) = await StartAsync();
        var workflow = await CreateDefinitionAsync(client, """[ { "id": "a", "type": "set", "config": { "values": { "v": 1 } } } ]""");

        var response = await client.PostJsonAsync($"{DefinitionsRoute}/{workflow}/trigger", new { TriggerData = new { customer = "c1", n = 2 } });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.JsonAsync();
        var id = Str(body["execution_id"]);
        Assert.StartsWith("exec_", id, StringComparison.Ordinal);
        Assert.Equal("pending", Str(body["status"]));
        Assert.Equal($"{ExecutionsRoute}/{id}", response.Headers.Location!.OriginalString);
        var read = await WaitForStatusAsync(client, id, "completed");
        Assert.Equal("c1", Str(read["trigger_data"]!["customer"]));
        Assert.Equal(2, read["trigger_data"]!["n"]!.GetValue<int>());

        // no body at all: trigger_data is {}
        var bare = await client.PostAsync(Url($"{DefinitionsRoute}/{workflow}/trigger"), null);
        Assert.True(bare.StatusCode == HttpStatusCode.Accepted, await bare.Content.ReadAsStringAsync());
        var bareExecution = await GetAsync(client, Str((await bare.JsonAsync())["execution_id"]));
        Assert.Equal("{}", bareExecution["trigger_data"]!.ToJsonString());
    }

    [Fact]
    public async Task Given_a_disabled_unknown_or_foreign_definition_When_triggered_Then_409_or_404_and_no_execution()
    {
        var (host, client) = await StartAsync();
        var workflow = await CreateDefinitionAsync(client, """[ { "id": "a", "type": "set", "config": { "values": { "v": 1 } } } ]""");
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(Url($"{DefinitionsRoute}/{workflow}/disable"), null)).StatusCode);

        await (await client.PostJsonAsync($"{DefinitionsRoute}/{workflow}/trigger", new { TriggerData = new { } })).ProblemAsync(409, "definition-disabled");
        await (await client.PostJsonAsync($"{DefinitionsRoute}/wf_01JD0000000000000000000000/trigger", new { })).ProblemAsync(404);
        await (await client.PostJsonAsync($"{DefinitionsRoute}/garbage/trigger", new { })).ProblemAsync(404);
        foreach (var (tenant, env) in new[] { ("globex", "dev"), ("acme", "prod") })
        {
            var stranger = await host.ClientAsync(tenant, env, Permissions.Admin);
            await (await stranger.PostJsonAsync($"{DefinitionsRoute}/{workflow}/trigger", new { })).ProblemAsync(404);
        }

        // enabled again it runs; the list then holds that one execution only
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(Url($"{DefinitionsRoute}/{workflow}/enable"), null)).StatusCode);
        var id = await TriggerAsync(client, workflow);
        var list = await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflow}"), l => Ids(l).Contains(id), "the execution to be listed");
        Assert.Equal([id], Ids(list));
    }

    [Fact]
    public async Task Given_a_read_only_key_or_a_bad_body_When_triggering_Then_403_or_400()
    {
        var (host, client) = await StartAsync();
        var workflow = await CreateDefinitionAsync(client, """[ { "id": "a", "type": "set", "config": { "values": { "v": 1 } } } ]""");
        var reader = await host.ClientAsync(Tenant, Env, Permissions.WorkflowsRead);
        await (await reader.PostJsonAsync($"{DefinitionsRoute}/{workflow}/trigger", new { })).ProblemAsync(403);
        var writer = await host.ClientAsync(Tenant, Env, Permissions.WorkflowsWrite);
        await (await writer.PostJsonAsync($"{DefinitionsRoute}/{workflow}/trigger", new { })).ProblemAsync(403);

        foreach (var data in new[] { "\"text\"", "[1, 2]", "42" })
        {
            var problem = await (await client.PostAsync(Url($"{DefinitionsRoute}/{workflow}/trigger"), Json($"{{ \"trigger_data\": {data} }}")))
                .ProblemAsync(400);
            Assert.True(problem["errors"]?["trigger_data"] is not null, $"{data}: {problem.ToJsonString()}");
        }

        await (await client.PostAsync(Url($"{DefinitionsRoute}/{workflow}/trigger"), Json("{ \"trigger_data\": { \"x\": "))).ProblemAsync(400);
        await (await client.PostAsync(Url($"{DefinitionsRoute}/{workflow}/trigger"), Json("not json"))).ProblemAsync(400);
        await (await client.PostAsync(Url($"{DefinitionsRoute}/{workflow}/trigger"), new StringContent("{}", System.Text.Encoding.UTF8, "text/plain")))
            .ProblemAsync(415);

        // nothing above started an execution: a later one is the only one listed
        var id = await TriggerAsync(client, workflow);
        var list = await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflow}"), l => Ids(l).Contains(id), "the execution to be listed");
        Assert.Equal([id], Ids(list));
    }

    [Fact]
    public async Task Given_an_idempotency_key_When_the_trigger_is_sent_twice_Then_the_same_execution_id_and_only_one_execution()
    {
        var (_, client) = await StartAsync();
        var workflow = await CreateDefinitionAsync(client, """[ { "id": "a", "type": "set", "config": { "values": { "v": "{{ trigger.n }}" } } } ]""");

        var first = await client.PostJsonAsync($"{DefinitionsRoute}/{workflow}/trigger", new { TriggerData = new { n = 1 } }, "run-once-1");
        var second = await client.PostJsonAsync($"{DefinitionsRoute}/{workflow}/trigger", new { TriggerData = new { n = 1 } }, "run-once-1");
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        var id = Str((await first.JsonAsync())["execution_id"]);
        Assert.Equal(id, Str((await second.JsonAsync())["execution_id"]));
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        await WaitForStatusAsync(client, id, "completed");
        await (await client.PostJsonAsync($"{DefinitionsRoute}/{workflow}/trigger", new { TriggerData = new { n = 99 } }, "run-once-1"))
            .ProblemAsync(422, "idempotency-key-reused");

        // a later run without a key: once it is listed, every earlier one is too
        var sentinel = await TriggerAsync(client, workflow, new { n = 2 });
        var list = await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflow}"), l => Ids(l).Contains(sentinel), "the later run to be listed");
        Assert.Equal(new[] { id, sentinel }.Order(StringComparer.Ordinal), Ids(list).Order(StringComparer.Ordinal));
        Assert.Equal(1, Count(await HistoryTypesAsync(client, id), "execution_started"));
    }

    // ---------------------------------------------------------------- 12. isolation

    [Fact]
    public async Task Given_another_tenant_or_environment_When_it_reads_cancels_or_retries_an_execution_Then_404_and_nothing_changes()
    {
        var (host, client) = await StartAsync();
        var slowWorkflow = await CreateDefinitionAsync(client, """[ { "id": "s", "type": "slow" } ]""");
        var failingWorkflow = await CreateDefinitionAsync(client, """[ { "id": "t", "type": "toggle" } ]""");
        var running = await TriggerAsync(client, slowWorkflow);
        var failed = await TriggerAsync(client, failingWorkflow);
        try
        {
            await Probe.WaitEnteredAsync(running, "s");
            await WaitForStatusAsync(client, failed, "failed");
            Probe.Allow(failed); // a retry that got through would now complete
            await EventuallyAsync(() => ListAsync(client, $"workflow_id={failingWorkflow}"), l => Ids(l).Contains(failed), "the failed execution to be listed");

            foreach (var (tenant, env) in new[] { ("globex", "dev"), ("acme", "prod") })
            {
                var stranger = await host.ClientAsync(tenant, env, Permissions.Admin);
                foreach (var id in new[] { running, failed })
                {
                    await (await stranger.GetAsync(Url($"{ExecutionsRoute}/{id}"))).ProblemAsync(404, "not-found");
                    await (await stranger.GetAsync(Url($"{ExecutionsRoute}/{id}/history"))).ProblemAsync(404);
                    await (await stranger.PostAsync(Url($"{ExecutionsRoute}/{id}/cancel"), null)).ProblemAsync(404);
                    await (await stranger.PostAsync(Url($"{ExecutionsRoute}/{id}/retry"), null)).ProblemAsync(404);
                }

                var theirs = await ListAsync(stranger, "limit=200");
                Assert.DoesNotContain(running, Ids(theirs));
                Assert.DoesNotContain(failed, Ids(theirs));
                Assert.Empty(Ids(await ListAsync(stranger, $"workflow_id={failingWorkflow}")));
            }

            Assert.Equal("running", Str((await GetAsync(client, running))["status"]));
            var stillFailed = await GetAsync(client, failed);
            Assert.Equal("failed", Str(stillFailed["status"]));
            Assert.Equal(0, stillFailed["retries"]!.GetValue<int>());
            Assert.False((await GetAsync(client, running))["cancel_requested"]!.GetValue<bool>());
        }
        finally
        {
            Probe.Release(running);
        }

        await WaitForStatusAsync(client, running, "completed");
    }

    // ---------------------------------------------------------------- 13. delete with running executions

    [Fact]
    public async Task Given_a_running_execution_When_its_definition_is_deleted_Then_409_unless_forced_which_cancels_it_and_it_stays_readable()
    {
        var (_, client) = await StartAsync();
        var workflow = await CreateDefinitionAsync(client, """[ { "id": "s", "order": 1, "type": "slow" }, { "id": "b", "order": 2, "type": "slow" } ]""");
        var id = await TriggerAsync(client, workflow);
        try
        {
            await Probe.WaitEnteredAsync(id, "s");
            // the delete consults the list read model: wait until it shows the execution as active
            await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflow}&status=running"), l => Ids(l).Contains(id),
                "the execution to be listed as running");

            var problem = await (await client.DeleteAsync(Url($"{DefinitionsRoute}/{workflow}"))).ProblemAsync(409, "definition-has-running-executions");
            Assert.Contains(id, problem["execution_ids"]!.AsArray().Select(Str));
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Url($"{DefinitionsRoute}/{workflow}"))).StatusCode);
            Assert.Equal("running", Str((await GetAsync(client, id))["status"]));
            Assert.False(Probe.WasCancelled(id, "s"));

            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(Url($"{DefinitionsRoute}/{workflow}?force=true"))).StatusCode);
            var cancelled = await WaitForStatusAsync(client, id, "cancelled");
            Assert.Equal("cancelled", Str(Step(cancelled, "s")["status"]));
            Assert.Equal("cancelled", Str(Step(cancelled, "b")["status"]));
            Assert.Equal(workflow, Str(cancelled["workflow_id"]));
            await Probe.WaitCancelledAsync(id, "s");
            await (await client.GetAsync(Url($"{DefinitionsRoute}/{workflow}"))).ProblemAsync(404);
            Assert.Equal("executions.execution_cancelled", (await HistoryTypesAsync(client, id))[^1]);
            await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflow}&status=cancelled"), l => Ids(l).Contains(id),
                "the list to show the execution cancelled");
        }
        finally
        {
            Probe.Release(id);
        }

        Assert.Equal(0, Probe.Calls(id, "b"));
    }

    [Fact]
    public async Task Given_a_deleted_definition_When_another_instance_with_a_cold_cache_reads_its_execution_Then_it_is_still_readable()
    {
        var (host, client) = await StartAsync(StoreKind.Postgres);
        var workflow = await CreateDefinitionAsync(client, """[ { "id": "a", "type": "set", "config": { "values": { "v": 7 } } } ]""");
        var id = await TriggerAsync(client, workflow);
        await WaitForStatusAsync(client, id, "completed");
        await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflow}&status=completed"), l => Ids(l).Contains(id), "the execution to be listed");
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(Url($"{DefinitionsRoute}/{workflow}"))).StatusCode);

        // A second instance on the same database, runtime off: it has never compiled that definition version.
        var settings = ExecutionsHosts.Settings();
        settings["EventStore:Postgres:ConnectionString"] = host.PostgresConnectionString;
        settings["Executions:Runtime:Mode"] = "none";
        await using var second = await ApiHost.StartAsync(StoreKind.Postgres, settings);
        var reader = await second.ClientAsync(Tenant, Env, Permissions.WorkflowsRead);

        var read = await GetAsync(reader, id);
        Assert.Equal("completed", Str(read["status"]));
        Assert.Equal(7, Step(read, "a")["output"]!["v"]!.GetValue<int>());
        Assert.NotEmpty((await HistoryAsync(reader, id))["events"]!.AsArray());
    }

    [Fact]
    public async Task Given_a_definition_without_active_executions_When_deleted_Then_204_and_its_finished_executions_stay_readable()
    {
        var (_, client) = await StartAsync();
        var workflow = await CreateDefinitionAsync(client, """[ { "id": "a", "type": "set", "config": { "values": { "v": 7 } } } ]""");
        var id = await TriggerAsync(client, workflow);
        await WaitForStatusAsync(client, id, "completed");
        await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflow}&status=completed"), l => Ids(l).Contains(id), "the execution to be listed");

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(Url($"{DefinitionsRoute}/{workflow}"))).StatusCode);

        var read = await GetAsync(client, id);
        Assert.Equal("completed", Str(read["status"]));
        Assert.Equal(7, Step(read, "a")["output"]!["v"]!.GetValue<int>());
        Assert.NotEmpty((await HistoryAsync(client, id))["events"]!.AsArray());
    }
}
