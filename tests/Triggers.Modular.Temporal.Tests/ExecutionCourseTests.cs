using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Temporal.Workflows;

namespace Triggers.Modular.Temporal.Tests;

/// <summary>The workflow's planning on its own: what it starts, what it waits for.</summary>
public sealed class ExecutionCourseTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly RuntimeRetryPolicy Retry = new(3, 1, 2, 60, ["bad_input"]);
    private static readonly Dictionary<string, DateTimeOffset> NoHolds = [];

    private static RuntimeStep Step(string id, string status, int attempt = 1, DateTimeOffset? due = null, DateTimeOffset? lease = null) =>
        new(id, status, attempt, 3, due, lease, 300, 330, Retry);

    private static RuntimeView View(DateTimeOffset? timeoutAt, params RuntimeStep[] steps) => new(7, "running", timeoutAt, steps);

    [Fact]
    public void Due_steps_start_in_plan_order_and_waiting_ones_set_the_wake_up()
    {
        var view = View(Now.AddMinutes(10),
            Step("a", "scheduled"), Step("b", "retry_waiting", 2, Now.AddSeconds(4)), Step("c", "sleeping", 1, Now.AddSeconds(-1)),
            Step("d", "running"), Step("e", "retry_waiting", 2, Now.AddSeconds(2)));

        var course = ExecutionCourse.Plan(view, Now, ["d"], NoHolds);

        Assert.False(course.TimeoutDue);
        Assert.Equal([new StepAction("a", StepAction.Run, 1), new StepAction("c", StepAction.Wake, 1)], course.Start);
        Assert.Equal(Now.AddSeconds(2), course.WakeAt);
    }

    [Fact]
    public void A_step_held_by_a_worker_not_in_flight_waits_for_its_lease_to_run_out()
    {
        var lease = Now.AddSeconds(45);
        var view = View(null, Step("a", "running", lease: lease));

        var held = ExecutionCourse.Plan(view, Now, [], NoHolds);
        Assert.Empty(held.Start);
        Assert.Equal(lease.AddTicks(1), held.WakeAt);
        Assert.Equal([new StepAction("a", StepAction.Run, 1)], ExecutionCourse.Plan(view, lease.AddSeconds(1), [], NoHolds).Start);
    }

    [Fact]
    public void A_passed_deadline_is_decided_first_and_a_held_one_waits()
    {
        var view = View(Now.AddSeconds(-1), Step("a", "running"));

        Assert.True(ExecutionCourse.Plan(view, Now, ["a"], NoHolds).TimeoutDue);
        var held = ExecutionCourse.Plan(view, Now, ["a"], new Dictionary<string, DateTimeOffset> { [ExecutionCourse.Deadline] = Now.AddSeconds(1) });
        Assert.False(held.TimeoutDue);
        Assert.Equal(Now.AddSeconds(1), held.WakeAt);
    }

    [Fact]
    public void A_step_that_did_not_move_is_held_and_a_finished_execution_plans_nothing()
    {
        var view = View(null, Step("a", "scheduled"));
        var held = ExecutionCourse.Plan(view, Now, [], new Dictionary<string, DateTimeOffset> { ["a"] = Now.AddSeconds(1) });
        Assert.Empty(held.Start);
        Assert.Equal(Now.AddSeconds(1), held.WakeAt);

        var done = ExecutionCourse.Plan(view with { Status = "completed" }, Now, [], NoHolds);
        Assert.Empty(done.Start);
        Assert.Null(done.WakeAt);
        Assert.False(done.TimeoutDue);
    }

    [Fact]
    public void Moved_sees_a_new_attempt_a_new_status_or_a_step_gone()
    {
        var before = View(null, Step("a", "scheduled"));
        Assert.False(ExecutionCourse.Moved(before, before with { Revision = 8 }, "a"));
        Assert.True(ExecutionCourse.Moved(before, View(null, Step("a", "retry_waiting", 2, Now)), "a"));
        Assert.True(ExecutionCourse.Moved(before, View(null), "a"));
    }
}
