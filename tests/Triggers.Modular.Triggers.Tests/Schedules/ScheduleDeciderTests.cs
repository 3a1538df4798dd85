using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.Triggers.Contracts;
using Triggers.Modular.Triggers.Schedules;

namespace Triggers.Modular.Triggers.Tests.Schedules;

/// <summary>The schedule decider (issue 8, ADR 0015): slots fire with a TriggerFired each and ids derived from the slot, a
/// decided slot never fires again, catch-up and missed slots, the overlap policies, pause/resume and run-now.</summary>
public sealed class ScheduleDeciderTests
{
    private static readonly ScheduleTarget Target = new("trg_1", "acme", "dev", "wf_1");
    private static readonly CronSchedule EveryMinute = CronSchedule.Parse("* * * * *", "UTC");
    private static readonly DateTimeOffset Created = At("10:00:30");
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    private static DateTimeOffset At(string hhmmss) => DateTimeOffset.Parse($"2026-12-03T{hhmmss}Z", System.Globalization.CultureInfo.InvariantCulture);

    private static ScheduleCommand.Advance Advance(string now, string policy = "allow_all", bool running = false, int windowSeconds = 0) =>
        new(Target, EveryMinute, Created, At(now), TimeSpan.FromSeconds(windowSeconds), Grace, policy, running);

    /// <summary>Decides, folds, returns the new state and the events. An <c>Advance</c> that names no checked execution is
    /// about the state's last one, as the firing loop's are.</summary>
    private static (ScheduleState State, IReadOnlyList<IEvent> Events) Run(ScheduleState state, ScheduleCommand command)
    {
        if (command is ScheduleCommand.Advance { CheckedExecutionId: null } advance) command = advance with { CheckedExecutionId = state.LastExecutionId };
        var events = ScheduleDecider.Instance.Decide(state, command);
        return (events.Aggregate(state, ScheduleDecider.Instance.Evolve), events);
    }

    [Fact]
    public void Given_a_due_slot_When_advanced_twice_Then_it_fires_once_with_its_trigger_fired_and_a_derived_execution_id()
    {
        var (state, events) = Run(ScheduleState.Initial, Advance("10:01:00.200"));
        var fired = Assert.IsType<ScheduleSlotFired>(events[0]);
        var trigger = Assert.IsType<TriggerFired>(events[1]);
        Assert.Equal(2, events.Count);
        Assert.Equal(("2026-12-03T10:01:00+00:00", "on_time", At("10:01:00")), (fired.Slot, fired.Kind, fired.ScheduledAt));
        Assert.Equal(ScheduleDecider.ExecutionIdFor("trg_1", "2026-12-03T10:01:00+00:00"), fired.ExecutionId);
        Assert.Equal((fired.ExecutionId, "schedule", "trg_1", "wf_1"), (trigger.ExecutionId, trigger.TriggerType, trigger.TriggerId, trigger.WorkflowId));
        Assert.Equal("2026-12-03T10:01:00+00:00", trigger.Payload.GetProperty("slot").GetString());
        Assert.Equal((1, fired.ExecutionId), (state.RunCount, state.LastExecutionId));

        Assert.Empty(Run(state, Advance("10:01:30")).Events); // decided: never again
        Assert.NotEqual(fired.ExecutionId, ScheduleDecider.ExecutionIdFor("trg_1", "2026-12-03T10:02:00+00:00"));
    }

    [Fact]
    public void Given_a_round_planned_at_its_start_When_the_decision_is_recorded_later_Then_the_slot_fires_on_time_stamped_when_recorded()
    {
        // A busy round: planned at 10:01:00.300, this trigger's turn came 20 s later — still the slot's on-time firing.
        var late = new ScheduleCommand.Advance(Target, EveryMinute, Created, At("10:01:00.300"), TimeSpan.Zero, Grace, "allow_all", false, At("10:01:20"));
        var (_, events) = Run(ScheduleState.Initial, late);
        var fired = Assert.IsType<ScheduleSlotFired>(events[0]);
        Assert.Equal(("on_time", At("10:01:00"), At("10:01:20")), (fired.Kind, fired.ScheduledAt, fired.At));
        Assert.DoesNotContain(events, e => e is ScheduleSlotsMissed);
        // Planned at the recording time instead, the same slot is past the grace and counted missed.
        Assert.IsType<ScheduleSlotsMissed>(Run(ScheduleState.Initial, Advance("10:01:20")).Events[0]);
    }

    [Fact]
    public void Given_a_slot_before_the_schedule_began_Then_nothing_fires_for_it()
    {
        Assert.Empty(Run(ScheduleState.Initial, Advance("10:00:59")).Events); // created 10:00:30: 10:00 was before
    }

    [Fact]
    public void Given_downtime_longer_than_the_window_Then_recent_slots_fire_in_order_as_catch_up_and_older_ones_are_recorded_missed()
    {
        var (state, events) = Run(ScheduleState.Initial, Advance("10:10:01", windowSeconds: 180));
        var missed = Assert.IsType<ScheduleSlotsMissed>(events[0]);
        Assert.Equal((6L, At("10:01:00"), At("10:06:00")), (missed.Count, missed.FirstScheduledAt, missed.LastScheduledAt));
        var fired = events.OfType<ScheduleSlotFired>().ToList();
        Assert.Equal([At("10:07:00"), At("10:08:00"), At("10:09:00"), At("10:10:00")], fired.Select(f => f.ScheduledAt));
        Assert.Equal(["catch_up", "catch_up", "catch_up", "on_time"], fired.Select(f => f.Kind));
        Assert.Equal(4, events.OfType<TriggerFired>().Count());
        Assert.Equal(At("10:10:00"), state.Cursor);
    }

    [Fact]
    public void Given_the_previous_run_still_going_When_policy_is_skip_Then_the_slot_is_recorded_skipped_and_the_next_free_one_fires()
    {
        var (state, _) = Run(ScheduleState.Initial, Advance("10:01:00"));
        var (state2, events) = Run(state, Advance("10:02:00", "skip", running: true));
        var skipped = Assert.IsType<ScheduleSlotSkipped>(Assert.Single(events));
        Assert.Equal(("overlap", state.LastExecutionId), (skipped.Reason, skipped.RunningExecutionId));
        var (_, later) = Run(state2, Advance("10:03:00", "skip", running: false));
        Assert.Equal(At("10:03:00"), Assert.IsType<ScheduleSlotFired>(later[0]).ScheduledAt);
    }

    [Fact]
    public void Given_the_previous_run_still_going_When_policy_is_buffer_one_Then_one_slot_waits_later_ones_are_skipped_and_it_fires_when_free()
    {
        var (state, _) = Run(ScheduleState.Initial, Advance("10:01:00"));
        var (waiting, events) = Run(state, Advance("10:03:00", "buffer_one", running: true, windowSeconds: 120));
        Assert.IsType<ScheduleSlotBuffered>(events[0]);
        Assert.IsType<ScheduleSlotSkipped>(events[1]);
        Assert.Equal("2026-12-03T10:02:00+00:00", waiting.BufferedSlot);

        Assert.Empty(Run(waiting, Advance("10:03:30", "buffer_one", running: true)).Events); // still running: it keeps waiting
        var (done, freed) = Run(waiting, Advance("10:03:40", "buffer_one", running: false));
        var fired = Assert.IsType<ScheduleSlotFired>(freed[0]);
        Assert.Equal(("buffered", At("10:02:00")), (fired.Kind, fired.ScheduledAt));
        Assert.Null(done.BufferedSlot);
        Assert.Equal(At("10:03:00"), done.Cursor); // the buffered slot does not move the cursor back
    }

    [Fact]
    public void Given_the_previous_run_still_going_When_policy_is_allow_all_Then_every_slot_fires()
    {
        var (state, _) = Run(ScheduleState.Initial, Advance("10:01:00"));
        var (_, events) = Run(state, Advance("10:03:00", "allow_all", running: true, windowSeconds: 120));
        Assert.Equal(2, events.OfType<ScheduleSlotFired>().Count());
    }

    [Fact]
    public void Given_a_paused_schedule_Then_nothing_fires_and_after_resuming_the_slots_of_the_pause_are_not_caught_up()
    {
        var (paused, pausing) = Run(ScheduleState.Initial, new ScheduleCommand.Pause(Target, At("10:00:40")));
        Assert.IsType<SchedulePaused>(Assert.Single(pausing));
        Assert.Empty(Run(paused, new ScheduleCommand.Pause(Target, At("10:00:41"))).Events); // twice: no-op
        Assert.Empty(Run(paused, Advance("10:05:00", windowSeconds: 600)).Events);
        var (resumed, _) = Run(paused, new ScheduleCommand.Resume(Target, At("10:05:10")));
        Assert.Empty(Run(resumed, Advance("10:05:30", windowSeconds: 600)).Events);
        var (_, events) = Run(resumed, Advance("10:06:00", windowSeconds: 600));
        Assert.Equal(At("10:06:00"), Assert.IsType<ScheduleSlotFired>(Assert.Single(events.OfType<ScheduleSlotFired>())).ScheduledAt);
    }

    [Fact]
    public void Given_run_now_Then_it_fires_outside_the_cadence_and_the_cadence_goes_on_unchanged()
    {
        var (state, events) = Run(ScheduleState.Initial, new ScheduleCommand.RunNow(Target, "exec_manual", At("10:00:45")));
        var fired = Assert.IsType<ScheduleSlotFired>(events[0]);
        Assert.Equal(("run_now", "exec_manual"), (fired.Kind, fired.ExecutionId));
        Assert.Null(state.Cursor);
        Assert.Equal(1, state.RunCount);
        var (_, next) = Run(state, Advance("10:01:00"));
        Assert.Equal(At("10:01:00"), Assert.IsType<ScheduleSlotFired>(next[0]).ScheduledAt);
    }

    [Theory]
    [InlineData("skip")]
    [InlineData("buffer_one")]
    public void Given_a_decision_checked_against_an_older_run_When_another_host_fired_meanwhile_Then_the_newer_run_counts_as_running(string policy)
    {
        // Both hosts saw run E1 finished; host A fired 10:01 (E2). Host B's decision, re-made on A's state after its append
        // conflicted, still says "E1 not running": it must not start 10:02 beside E2.
        var (afterA, _) = Run(ScheduleState.Initial, Advance("10:01:00.100", policy));
        var stale = Advance("10:02:00.100", policy, running: false) with { CheckedExecutionId = "exec_e1" };
        var (_, events) = Run(afterA, stale);
        Assert.DoesNotContain(events, e => e is ScheduleSlotFired);
        Assert.Contains(events, e => e is ScheduleSlotSkipped or ScheduleSlotBuffered);
    }

    [Fact]
    public void Given_a_waiting_buffered_slot_When_paused_or_the_cadence_restarts_Then_it_is_dropped_as_skipped_and_never_fires_later()
    {
        var (running, _) = Run(ScheduleState.Initial, Advance("10:01:00.100", "buffer_one"));
        var (waiting, _) = Run(running, Advance("10:02:00.100", "buffer_one", running: true));
        Assert.NotNull(waiting.BufferedSlot);

        var (paused, pauseEvents) = Run(waiting, new ScheduleCommand.Pause(Target, At("10:02:30")));
        var dropped = Assert.IsType<ScheduleSlotSkipped>(pauseEvents[0]);
        Assert.Equal(("paused", waiting.BufferedSlot), (dropped.Reason, dropped.Slot));
        Assert.IsType<SchedulePaused>(pauseEvents[1]);
        Assert.Null(paused.BufferedSlot);

        // Re-enabled at 10:05 (the cadence restarts): the slot waiting from 10:02 is dropped, not fired.
        var restarted = new ScheduleCommand.Advance(Target, EveryMinute, At("10:05:00"), At("10:05:10"), TimeSpan.Zero, Grace, "buffer_one", false);
        var (_, events) = Run(waiting, restarted);
        Assert.Equal("cadence_reset", Assert.IsType<ScheduleSlotSkipped>(events[0]).Reason);
        Assert.DoesNotContain(events, e => e is ScheduleSlotFired { Kind: "buffered" });
    }

    [Fact]
    public void Given_downtime_within_the_window_and_policy_skip_Then_the_first_caught_up_slot_fires_and_the_rest_are_recorded_skipped()
    {
        // Documented behaviour: catch-up slots obey the overlap policy like on-time ones (each is recorded, none silently lost).
        var (_, events) = Run(ScheduleState.Initial, Advance("10:04:01", "skip", windowSeconds: 600));
        Assert.Equal([At("10:01:00")], events.OfType<ScheduleSlotFired>().Select(f => f.ScheduledAt));
        Assert.Equal([At("10:02:00"), At("10:03:00"), At("10:04:00")], events.OfType<ScheduleSlotSkipped>().Select(f => f.ScheduledAt));
    }
}
