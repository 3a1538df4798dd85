using System.Text.Json;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Executions.Domain;

namespace Triggers.Modular.Executions.Tests.Domain;

/// <summary>The execution state machine on its own: commands in, events out, no clock, store or runtime.</summary>
public sealed class ExecutionDeciderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private sealed class Run
    {
        public Run(string definitionJson)
        {
            Decider = new ExecutionDecider(ExecutionPlan.From("wf_test", 1, JsonDocument.Parse(definitionJson).RootElement.Clone()));
            State = Decider.Initial;
        }

        public ExecutionDecider Decider { get; }

        public ExecutionState State { get; private set; }

        public List<IEvent> History { get; } = [];

        public IReadOnlyList<IEvent> Do(ExecutionCommand command)
        {
            var events = Decider.Decide(State, command);
            foreach (var e in events) State = Decider.Evolve(State, e);
            History.AddRange(events);
            return events;
        }

        public IReadOnlyList<IEvent> Start(string payload = "{}", DateTimeOffset? at = null) =>
            Do(new ExecutionCommand.Start("exec_1", "t1", "dev", "manual", null, Json(payload), null, at ?? T0));

        public IReadOnlyList<IEvent> Begin(string step, int attempt, DateTimeOffset at, DateTimeOffset? lease = null) =>
            Do(new ExecutionCommand.BeginAttempt(step, attempt, "w1", lease ?? at.AddMinutes(5), at));

        public IReadOnlyList<IEvent> Complete(string step, int attempt, DateTimeOffset at, string output = "{}") =>
            Do(new ExecutionCommand.RecordOutcome(step, attempt, new StepOutcome.Completed(Json(output)), "w1", at));

        public IReadOnlyList<IEvent> Fail(string step, int attempt, DateTimeOffset at, bool retryable, string code = "http_status") =>
            Do(new ExecutionCommand.RecordOutcome(step, attempt, new StepOutcome.Failed(code, "boom", retryable), "w1", at));

        /// <summary>Begins and completes a step's attempt.</summary>
        public IReadOnlyList<IEvent> RunOk(string step, int attempt, DateTimeOffset at, string output = "{}")
        {
            Assert.Single(Begin(step, attempt, at));
            return Complete(step, attempt, at, output);
        }

        public StepStatus Step(string id) => State.Steps[id].Status;
    }

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static string[] Scheduled(IEnumerable<IEvent> events) => events.OfType<StepScheduled>().Select(s => s.StepId).ToArray();

    private const string ThreeInOrder = """
        { "steps": [
          { "id": "a", "order": 1, "type": "set", "config": { "values": { "x": 1 } } },
          { "id": "b", "order": 2, "type": "set", "config": { "values": { "x": 2 } } },
          { "id": "c", "order": 3, "type": "set", "config": { "values": { "x": 3 } } } ] }
        """;

    [Fact]
    public void Given_steps_without_depends_on_When_started_Then_they_run_one_after_the_other_by_order()
    {
        var run = new Run(ThreeInOrder);
        Assert.Equal(["a"], Scheduled(run.Start()));
        Assert.Equal(["b"], Scheduled(run.RunOk("a", 1, T0)));
        Assert.Equal(["c"], Scheduled(run.RunOk("b", 1, T0)));
        var last = run.RunOk("c", 1, T0);
        Assert.IsType<ExecutionCompleted>(last[^1]);
        Assert.Equal(ExecutionStatus.Completed, run.State.Status);
    }

    [Fact]
    public void Given_steps_without_order_When_started_Then_their_position_in_the_list_is_their_order()
    {
        var run = new Run("""
            { "steps": [ { "id": "x", "type": "set", "config": {} }, { "id": "y", "type": "set", "config": {} },
                         { "id": "z", "type": "set", "config": {}, "depends_on": [] } ] }
            """);
        Assert.Equal(["x", "z"], Scheduled(run.Start()));
        Assert.Equal(["y"], Scheduled(run.RunOk("x", 1, T0)));
    }

    [Fact]
    public void Given_a_repeated_start_When_decided_Then_nothing_happens()
    {
        var run = new Run(ThreeInOrder);
        run.Start();
        Assert.Empty(run.Start());
    }

    [Fact]
    public void Given_steps_sharing_an_order_or_declaring_no_dependencies_When_started_Then_they_are_scheduled_together()
    {
        var run = new Run("""
            { "steps": [
              { "id": "a", "order": 1, "type": "set", "config": {} },
              { "id": "b", "order": 1, "type": "set", "config": {} },
              { "id": "c", "order": 2, "type": "set", "config": {}, "depends_on": [] },
              { "id": "d", "order": 3, "type": "set", "config": {}, "depends_on": ["a", "b"] } ] }
            """);
        Assert.Equal(["a", "b", "c"], Scheduled(run.Start()));
        Assert.Empty(Scheduled(run.RunOk("a", 1, T0)));
        Assert.Equal(["d"], Scheduled(run.RunOk("b", 1, T0)));
    }

    [Fact]
    public void Given_more_independent_steps_than_the_parallel_bound_When_started_Then_only_the_bound_is_scheduled()
    {
        var steps = string.Join(",", Enumerable.Range(0, 20).Select(i => $$"""{ "id": "s{{i}}", "order": 1, "type": "set", "config": {} }"""));
        var run = new Run($$"""{ "steps": [{{steps}}] }""");
        Assert.Equal(ExecutionDecider.MaxParallelSteps, Scheduled(run.Start()).Length);
        Assert.Single(Scheduled(run.RunOk("s0", 1, T0)));
    }

    [Fact]
    public void Given_a_false_condition_When_the_step_is_ready_Then_it_and_its_dependents_are_skipped_and_the_execution_completes()
    {
        var run = new Run("""
            { "steps": [
              { "id": "a", "order": 1, "type": "set", "config": {} },
              { "id": "b", "order": 2, "type": "set", "config": {}, "condition": { "path": "steps.a.output.status", "op": "eq", "value": 201 } },
              { "id": "c", "order": 3, "type": "set", "config": {}, "depends_on": ["b"] },
              { "id": "d", "order": 3, "type": "set", "config": {}, "depends_on": ["a"] } ] }
            """);
        run.Start();
        var events = run.RunOk("a", 1, T0, """{ "status": 500 }""");
        var skipped = events.OfType<StepSkipped>().ToList();
        Assert.Equal(["b", "c"], skipped.Select(s => s.StepId));
        Assert.Equal("condition_false", skipped[0].ReasonCode);
        Assert.Contains("steps.a.output.status", skipped[0].Reason, StringComparison.Ordinal);
        Assert.Equal("dependency_not_completed", skipped[1].ReasonCode);
        Assert.Equal(["d"], Scheduled(events));
        Assert.IsType<ExecutionCompleted>(run.RunOk("d", 1, T0)[^1]);
    }

    [Fact]
    public void Given_a_skipped_step_in_a_plain_ordered_list_When_it_is_skipped_Then_later_steps_still_run()
    {
        var run = new Run("""
            { "steps": [
              { "id": "a", "type": "set", "config": {} },
              { "id": "b", "type": "set", "config": {}, "condition": { "path": "trigger.go", "op": "eq", "value": true } },
              { "id": "c", "type": "set", "config": {} } ] }
            """);
        run.Start("""{ "go": false }""");
        var events = run.RunOk("a", 1, T0);
        Assert.Equal("b", Assert.Single(events.OfType<StepSkipped>()).StepId);
        Assert.Equal(["c"], Scheduled(events));
        Assert.IsType<ExecutionCompleted>(run.RunOk("c", 1, T0)[^1]);
    }

    [Fact]
    public void Given_a_condition_on_a_step_skipped_in_the_same_pass_When_evaluated_Then_it_sees_the_skip()
    {
        var run = new Run("""
            { "steps": [
              { "id": "a", "order": 1, "type": "set", "config": {} },
              { "id": "b", "order": 2, "type": "set", "config": {}, "depends_on": ["a"], "condition": { "path": "trigger.go", "op": "eq", "value": true } },
              { "id": "d", "order": 3, "type": "set", "config": {}, "depends_on": ["a"],
                "condition": { "path": "steps.b.status", "op": "eq", "value": "skipped" } } ] }
            """);
        run.Start("""{ "go": false }""");
        Assert.Equal(["d"], Scheduled(run.RunOk("a", 1, T0)));
    }

    [Fact]
    public void Given_an_attempt_delivered_again_to_another_worker_When_the_first_worker_reports_late_Then_its_outcome_is_ignored()
    {
        var run = new Run(ThreeInOrder);
        run.Start();
        run.Do(new ExecutionCommand.BeginAttempt("a", 1, "w1", T0.AddSeconds(10), T0));
        run.Do(new ExecutionCommand.BeginAttempt("a", 1, "w2", T0.AddSeconds(30), T0.AddSeconds(11)));
        Assert.Empty(run.Do(new ExecutionCommand.RecordOutcome("a", 1, new StepOutcome.Completed(Json("{}")), "w1", T0.AddSeconds(12))));
        Assert.Equal(StepStatus.Running, run.Step("a"));
        Assert.Contains(run.Do(new ExecutionCommand.RecordOutcome("a", 1, new StepOutcome.Completed(Json("{}")), "w2", T0.AddSeconds(13))),
            e => e is StepCompleted);
    }

    [Fact]
    public void Given_a_failed_execution_with_a_never_started_step_When_retried_Then_that_step_starts_at_attempt_1()
    {
        var run = new Run("""
            { "steps": [ { "id": "a", "order": 1, "type": "set", "config": {} }, { "id": "b", "order": 1, "type": "set", "config": {} } ] }
            """);
        run.Start();
        run.Begin("a", 1, T0);
        run.Fail("a", 1, T0, retryable: false); // b was scheduled but never started
        var retried = run.Do(new ExecutionCommand.Retry(T0.AddMinutes(1)));
        var scheduled = retried.OfType<StepScheduled>().ToDictionary(s => s.StepId, s => s.Attempt);
        Assert.Equal(2, scheduled["a"]);
        Assert.Equal(1, scheduled["b"]);
    }

    [Fact]
    public void Given_a_true_condition_on_the_trigger_When_ready_Then_the_step_runs()
    {
        var run = new Run("""
            { "steps": [ { "id": "a", "order": 1, "type": "set", "config": {}, "condition": { "path": "trigger.plan", "op": "eq", "value": "pro" } } ] }
            """);
        Assert.Equal(["a"], Scheduled(run.Start("""{ "plan": "pro" }""")));
    }

    [Fact]
    public void Given_retryable_failures_When_recorded_Then_back_off_grows_by_the_coefficient_until_attempts_run_out()
    {
        var run = new Run("""
            { "retry_policy": { "max_attempts": 3, "initial_interval_seconds": 2, "backoff_coefficient": 3.0, "max_interval_seconds": 10 },
              "steps": [ { "id": "a", "order": 1, "type": "set", "config": {} }, { "id": "b", "order": 2, "type": "set", "config": {} } ] }
            """);
        run.Start();
        run.Begin("a", 1, T0);
        var first = run.Fail("a", 1, T0, retryable: true);
        Assert.Equal(T0.AddSeconds(2), Assert.IsType<StepRetryScheduled>(first[^1]).DueAt);
        Assert.Empty(run.Begin("a", 2, T0.AddSeconds(1))); // not due yet
        run.Begin("a", 2, T0.AddSeconds(2));
        var second = run.Fail("a", 2, T0.AddSeconds(2), retryable: true);
        Assert.Equal(T0.AddSeconds(8), Assert.IsType<StepRetryScheduled>(second[^1]).DueAt); // 2 × 3
        run.Begin("a", 3, T0.AddSeconds(8));
        var third = run.Fail("a", 3, T0.AddSeconds(8), retryable: true);
        var failed = Assert.IsType<ExecutionFailed>(third[^1]);
        Assert.Equal("step_failed", failed.Reason);
        Assert.Equal("a", failed.StepId);
        Assert.Equal(StepStatus.Skipped, run.Step("b"));
        Assert.Equal(3, run.State.Steps["a"].Attempts.Count);
    }

    [Fact]
    public void Given_the_back_off_cap_When_many_failures_Then_the_interval_never_exceeds_the_maximum()
    {
        var policy = new RetryPolicy(10, 1, 2.0, 60, []);
        Assert.Equal(TimeSpan.FromSeconds(1), policy.BackoffAfter(1));
        Assert.Equal(TimeSpan.FromSeconds(32), policy.BackoffAfter(6));
        Assert.Equal(TimeSpan.FromSeconds(60), policy.BackoffAfter(7));
        Assert.Equal(TimeSpan.FromSeconds(60), policy.BackoffAfter(5000));
    }

    [Fact]
    public void Given_a_step_policy_When_it_sets_some_fields_Then_the_others_come_from_the_definition_then_the_default()
    {
        var plan = ExecutionPlan.From("wf", 1, Json("""
            { "retry_policy": { "initial_interval_seconds": 5 },
              "steps": [ { "id": "a", "order": 1, "type": "set", "config": {}, "retry_policy": { "max_attempts": 7 } } ] }
            """));
        Assert.Equal(new RetryPolicy(7, 5, 2.0, 60, []).ToString(), plan.Step("a").Retry.ToString());
    }

    [Fact]
    public void Given_a_non_retryable_error_When_recorded_Then_the_execution_fails_at_once_keeping_completed_outputs()
    {
        var run = new Run(ThreeInOrder);
        run.Start();
        run.RunOk("a", 1, T0, """{ "x": 1 }""");
        run.Begin("b", 1, T0);
        var events = run.Fail("b", 1, T0, retryable: false);
        Assert.DoesNotContain(events, e => e is StepRetryScheduled);
        Assert.Equal(ExecutionStatus.Failed, run.State.Status);
        Assert.Equal(StepStatus.Completed, run.Step("a"));
        Assert.Equal(1, run.State.Steps["a"].Output!.Value.GetProperty("x").GetInt32());
        Assert.Equal(StepStatus.Failed, run.Step("b"));
        Assert.Equal(StepStatus.Skipped, run.Step("c"));
        Assert.Equal("execution_failed", run.State.Steps["c"].ReasonCode);
    }

    [Fact]
    public void Given_an_error_code_listed_as_non_retryable_When_a_retryable_error_with_it_is_recorded_Then_it_is_not_retried()
    {
        var run = new Run("""
            { "steps": [ { "id": "a", "order": 1, "type": "set", "config": {}, "retry_policy": { "non_retryable_errors": ["timeout"] } } ] }
            """);
        run.Start();
        run.Begin("a", 1, T0);
        var events = run.Fail("a", 1, T0, retryable: true, code: "timeout");
        Assert.False(events.OfType<StepFailed>().Single().Retryable);
        Assert.IsType<ExecutionFailed>(events[^1]);
    }

    [Fact]
    public void Given_a_completed_step_When_its_outcome_is_recorded_again_or_for_an_old_attempt_Then_nothing_is_decided()
    {
        var run = new Run(ThreeInOrder);
        run.Start();
        run.RunOk("a", 1, T0);
        Assert.Empty(run.Complete("a", 1, T0));
        Assert.Empty(run.Fail("a", 1, T0, retryable: true));
        Assert.Empty(run.Begin("a", 1, T0.AddHours(1)));
        Assert.Single(run.History.OfType<StepCompleted>(), c => c.StepId == "a");
    }

    [Fact]
    public void Given_a_running_attempt_When_another_worker_asks_before_the_lease_ends_Then_it_is_refused_and_after_it_is_redelivered()
    {
        var run = new Run(ThreeInOrder);
        run.Start();
        run.Begin("a", 1, T0, lease: T0.AddSeconds(30));
        Assert.Empty(run.Begin("a", 1, T0.AddSeconds(29)));
        var again = run.Begin("a", 1, T0.AddSeconds(31));
        Assert.Equal(1, Assert.IsType<StepStarted>(Assert.Single(again)).Attempt);
        Assert.Equal(["interrupted", "running"], run.State.Steps["a"].Attempts.Select(a => a.Outcome));
    }

    [Fact]
    public void Given_a_deadline_When_the_timeout_fires_Then_the_execution_fails_with_timed_out_and_keeps_partial_results()
    {
        var run = new Run(ThreeInOrder.Replace("{ \"steps\"", "{ \"timeout_seconds\": 60, \"steps\"", StringComparison.Ordinal));
        var started = Assert.IsType<ExecutionStarted>(run.Start()[0]);
        Assert.Equal(T0.AddSeconds(60), started.TimeoutAt);
        run.RunOk("a", 1, T0);
        run.Begin("b", 1, T0);
        Assert.Empty(run.Do(new ExecutionCommand.Timeout(T0.AddSeconds(59))));
        var events = run.Do(new ExecutionCommand.Timeout(T0.AddSeconds(60)));
        var failed = Assert.IsType<ExecutionFailed>(events[^1]);
        Assert.Equal("timed_out", failed.Reason);
        Assert.Equal(StepStatus.Completed, run.Step("a"));
        Assert.Equal(StepStatus.Cancelled, run.Step("b"));
        Assert.Equal(StepStatus.Skipped, run.Step("c"));
        Assert.Empty(run.Complete("b", 1, T0.AddSeconds(61))); // a late outcome changes nothing
    }

    [Fact]
    public void Given_a_running_execution_When_cancelled_Then_every_unfinished_step_is_cancelled_and_a_second_cancel_is_a_no_op()
    {
        var run = new Run(ThreeInOrder);
        run.Start();
        run.Begin("a", 1, T0);
        var events = run.Do(new ExecutionCommand.Cancel("no longer needed", T0));
        Assert.IsType<ExecutionCancelRequested>(events[0]);
        Assert.IsType<ExecutionCancelled>(events[^1]);
        Assert.All(["a", "b", "c"], id => Assert.Equal(StepStatus.Cancelled, run.Step(id)));
        Assert.Empty(run.Do(new ExecutionCommand.Cancel(null, T0)));
    }

    [Fact]
    public void Given_a_completed_execution_When_cancelled_or_retried_Then_it_is_a_conflict()
    {
        var run = new Run("""{ "steps": [ { "id": "a", "order": 1, "type": "set", "config": {} } ] }""");
        run.Start();
        run.RunOk("a", 1, T0);
        Assert.Throws<ConflictException>(() => run.Do(new ExecutionCommand.Cancel(null, T0)));
        Assert.Throws<ConflictException>(() => run.Do(new ExecutionCommand.Retry(T0)));
    }

    [Fact]
    public void Given_a_failed_execution_When_retried_Then_it_resumes_from_the_failed_step_keeping_outputs_and_numbering_attempts_on()
    {
        var run = new Run(ThreeInOrder);
        run.Start();
        run.RunOk("a", 1, T0, """{ "x": 1 }""");
        run.Begin("b", 1, T0);
        run.Fail("b", 1, T0, retryable: false);

        var events = run.Do(new ExecutionCommand.Retry(T0.AddMinutes(1)));
        Assert.Equal(["b", "c"], Assert.IsType<ExecutionRetried>(events[0]).Steps);
        Assert.Equal(2, Assert.Single(events.OfType<StepScheduled>()).Attempt);
        Assert.Equal(ExecutionStatus.Running, run.State.Status);
        Assert.Equal(StepStatus.Completed, run.Step("a"));
        run.RunOk("b", 2, T0.AddMinutes(1));
        Assert.IsType<ExecutionCompleted>(run.RunOk("c", 1, T0.AddMinutes(1))[^1]);
        Assert.Equal([1, 2], run.State.Steps["b"].Attempts.Select(a => a.Attempt));
        Assert.Single(run.History.OfType<StepCompleted>(), c => c.StepId == "a");
    }

    [Fact]
    public void Given_a_sleeping_step_When_its_timer_fires_Then_it_completes_with_its_output_and_not_before()
    {
        var run = new Run("""{ "steps": [ { "id": "wait", "order": 1, "type": "delay", "config": { "seconds": 30 } } ] }""");
        run.Start();
        run.Begin("wait", 1, T0);
        var sleep = run.Do(new ExecutionCommand.RecordOutcome("wait", 1, new StepOutcome.Sleep(T0.AddSeconds(30), Json("""{ "until": "x" }""")), "w1", T0));
        Assert.IsType<StepSleeping>(Assert.Single(sleep));
        Assert.Empty(run.Do(new ExecutionCommand.Wake("wait", 1, T0.AddSeconds(29))));
        var woke = run.Do(new ExecutionCommand.Wake("wait", 1, T0.AddSeconds(30)));
        Assert.Equal("x", Assert.IsType<StepCompleted>(woke[0]).Output.GetProperty("until").GetString());
        Assert.IsType<ExecutionCompleted>(woke[^1]);
    }

    [Fact]
    public void Given_a_dependency_on_a_later_step_that_waits_for_it_When_started_Then_the_execution_fails_naming_the_steps()
    {
        var run = new Run("""
            { "steps": [ { "id": "a", "order": 1, "type": "set", "config": {}, "depends_on": ["b"] },
                         { "id": "b", "order": 2, "type": "set", "config": {} } ] }
            """);
        var failed = Assert.IsType<ExecutionFailed>(run.Start()[^1]);
        Assert.Equal("invalid_definition", failed.Reason);
        Assert.All(["a", "b"], id => Assert.Equal(StepStatus.Skipped, run.Step(id)));
        Assert.Contains("'a', 'b'", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_the_same_commands_When_decided_twice_Then_the_events_are_identical()
    {
        static string Trace()
        {
            var run = new Run(ThreeInOrder);
            run.Start("""{ "n": 1 }""");
            run.RunOk("a", 1, T0.AddSeconds(1), """{ "v": [1, 2] }""");
            run.Begin("b", 1, T0.AddSeconds(2));
            run.Fail("b", 1, T0.AddSeconds(3), retryable: true);
            return string.Join("\n", run.History.Select(e => $"{e.GetType().Name}:{JsonSerializer.Serialize(e, e.GetType(), EventSerializer.Options)}"));
        }

        Assert.Equal(Trace(), Trace());
    }
}
