using Triggers.Modular.Triggers.Schedules;

namespace Triggers.Modular.Triggers.Tests.Schedules;

/// <summary>Catch-up after downtime (issue 8): slots within the window fire once each, in order; older ones are counted as
/// missed with the first and last of them; a slot a little late is on time; nothing is due before its time.</summary>
public sealed class SlotPlannerTests
{
    private static readonly CronSchedule EveryMinute = CronSchedule.Parse("* * * * *", "UTC");
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    private static DateTimeOffset At(string hhmmss) => DateTimeOffset.Parse($"2026-12-03T{hhmmss}Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Given_a_slot_just_due_When_planned_a_little_late_Then_it_fires_and_nothing_is_missed()
    {
        var plan = SlotPlanner.Plan(EveryMinute, At("10:00:00"), At("10:01:00.300"), TimeSpan.Zero, Grace);
        Assert.Equal([At("10:01:00")], plan.Fire);
        Assert.Equal(0, plan.MissedCount);
    }

    [Fact]
    public void Given_nothing_due_yet_When_planned_Then_nothing_fires()
    {
        Assert.Empty(SlotPlanner.Plan(EveryMinute, At("10:01:00"), At("10:01:59"), TimeSpan.FromMinutes(5), Grace).Fire);
        Assert.Same(SlotPlan.Nothing, SlotPlanner.Plan(EveryMinute, At("10:01:00"), At("10:01:00"), TimeSpan.Zero, Grace));
    }

    [Fact]
    public void Given_ten_minutes_of_downtime_and_a_three_minute_window_Then_the_slots_of_the_last_three_minutes_and_the_current_one_fire_in_order_and_six_are_missed()
    {
        var plan = SlotPlanner.Plan(EveryMinute, At("10:00:00"), At("10:10:01"), TimeSpan.FromMinutes(3), Grace);
        Assert.Equal([At("10:07:00"), At("10:08:00"), At("10:09:00"), At("10:10:00")], plan.Fire);
        Assert.Equal(6, plan.MissedCount);
        Assert.Equal(At("10:01:00"), plan.FirstMissed);
        Assert.Equal(At("10:06:00"), plan.LastMissed);
        Assert.False(plan.MissedCountCapped);
    }

    [Fact]
    public void Given_a_window_of_zero_and_downtime_Then_only_the_slot_on_time_fires_and_the_rest_are_missed()
    {
        var plan = SlotPlanner.Plan(EveryMinute, At("10:00:00"), At("10:05:02"), TimeSpan.Zero, Grace);
        Assert.Equal([At("10:05:00")], plan.Fire);
        Assert.Equal(4, plan.MissedCount);
    }

    [Fact]
    public void Given_a_week_of_downtime_of_a_per_second_schedule_Then_counting_stops_at_the_cap_and_the_window_still_fires()
    {
        var perSecond = CronSchedule.Parse("* * * * * *", "UTC");
        var plan = SlotPlanner.Plan(perSecond, At("10:00:00").AddDays(-7), At("10:00:00"), TimeSpan.FromSeconds(10), TimeSpan.Zero);
        Assert.True(plan.MissedCountCapped);
        Assert.Equal(SlotPlanner.MaxMissedCounted, plan.MissedCount);
        Assert.Equal(11, plan.Fire.Count); // 09:59:50 … 10:00:00
        Assert.Equal(At("09:59:50"), plan.Fire[0]);
    }
}
