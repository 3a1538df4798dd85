using Triggers.Modular.Triggers.Schedules;

namespace Triggers.Modular.Triggers.Tests.Schedules;

/// <summary>Slots of a schedule across America/New_York's daylight-saving days (issue 8): a slot in the skipped hour fires
/// once at the transition, a slot in the repeated hour fires once, also for <c>*/15</c>; slot names never repeat.</summary>
public sealed class CronScheduleTests
{
    private const string NewYork = "America/New_York";

    private static DateTimeOffset Utc(string s) => DateTimeOffset.Parse(s + "Z", System.Globalization.CultureInfo.InvariantCulture);

    private static string[] Slots(string cron, string from, string to, string zone = NewYork) =>
        [.. CronSchedule.Parse(cron, zone).Between(Utc(from), Utc(to)).Select(s => s.UtcDateTime.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture))];

    [Fact]
    public void Given_every_15_minutes_on_the_spring_forward_day_Then_the_skipped_hour_fires_once_at_the_transition()
    {
        // 2026-03-08: 02:00 EST (07:00Z) becomes 03:00 EDT; 01:45 EST is 06:45Z.
        Assert.Equal(["06:15", "06:30", "06:45", "07:00", "07:15", "07:30"], Slots("*/15 * * * *", "2026-03-08T06:00:00", "2026-03-08T07:30:00"));
    }

    [Fact]
    public void Given_a_daily_slot_inside_the_skipped_hour_Then_it_fires_once_at_the_transition_and_normally_the_next_day()
    {
        // 02:30 does not exist on 2026-03-08: it fires at 03:00 EDT (07:00Z); the next day 02:30 EDT is 06:30Z.
        Assert.Equal(["07:00", "06:30"], Slots("30 2 * * *", "2026-03-08T00:00:00", "2026-03-09T12:00:00"));
    }

    [Fact]
    public void Given_every_15_minutes_on_the_fall_back_day_Then_the_repeated_hour_fires_once()
    {
        // 2026-11-01: 02:00 EDT (06:00Z) becomes 01:00 EST. First pass of 01:xx: 05:00Z–05:45Z; the second (06:00Z–06:45Z)
        // names the same wall-clock slots and does not fire; 02:00 EST is 07:00Z.
        Assert.Equal(["04:45", "05:00", "05:15", "05:30", "05:45", "07:00", "07:15"],
            Slots("*/15 * * * *", "2026-11-01T04:30:00", "2026-11-01T07:15:00"));
    }

    [Fact]
    public void Given_a_daily_slot_inside_the_repeated_hour_Then_it_fires_once_in_the_first_pass()
    {
        // 01:30 happens twice on 2026-11-01 (05:30Z EDT, 06:30Z EST): once; the next day 01:30 EST is 06:30Z.
        Assert.Equal(["05:30", "06:30"], Slots("30 1 * * *", "2026-11-01T00:00:00", "2026-11-02T12:00:00"));
    }

    [Fact]
    public void Given_hourly_slots_across_both_transitions_Then_every_slot_name_is_unique_and_names_the_local_time()
    {
        var schedule = CronSchedule.Parse("0,30 * * * *", NewYork);
        foreach (var day in new[] { "2026-03-08", "2026-11-01" })
        {
            var slots = schedule.Between(Utc(day + "T00:00:00"), Utc(day + "T12:00:00"));
            var keys = slots.Select(schedule.SlotKey).ToList();
            Assert.Equal(keys.Count, keys.Distinct().Count());
            Assert.All(slots.Zip(slots.Skip(1)), p => Assert.True(p.First < p.Second));
        }

        // A name is an instant: local time and the offset then (the second pass of 01:30 is never planned, see above).
        Assert.Equal("2026-11-01T01:30:00-04:00", schedule.SlotKey(Utc("2026-11-01T05:30:00")));
        Assert.Equal("2026-11-01T01:30:00-05:00", schedule.SlotKey(Utc("2026-11-01T06:30:00")));
        Assert.Equal("2026-03-08T03:00:00-04:00", schedule.SlotKey(Utc("2026-03-08T07:00:00")));
        // The same wall-clock time in another zone is another slot (a trigger whose zone changes never reuses a name).
        Assert.NotEqual(CronSchedule.Parse("0 10 * * *", "UTC").SlotKey(Utc("2026-12-03T10:00:00")),
            CronSchedule.Parse("0 10 * * *", NewYork).SlotKey(Utc("2026-12-03T15:00:00")));
    }

    [Fact]
    public void Given_seconds_and_utc_Then_six_fields_fire_every_few_seconds_and_no_zone_means_utc()
    {
        var schedule = CronSchedule.Parse("*/20 * * * * *", null);
        Assert.Equal([Utc("2026-12-03T10:00:20"), Utc("2026-12-03T10:00:40"), Utc("2026-12-03T10:01:00")],
            schedule.Between(Utc("2026-12-03T10:00:00"), Utc("2026-12-03T10:01:00")));
        Assert.Equal("2026-12-03T10:00:20+00:00", schedule.SlotKey(Utc("2026-12-03T10:00:20")));
    }

    [Theory]
    [InlineData("0 9 1 * 1", 5)] // the 1st (a Wednesday) or any Monday: 1, 6, 13, 20, 27 July
    [InlineData("0 9 1,15 * 5", 7)] // the 1st, the 15th or any Friday: 1, 3, 10, 15, 17, 24, 31
    [InlineData("0 9 * * 1", 4)] // Mondays only
    [InlineData("0 9 13 * *", 1)] // the 13th only
    [InlineData("0 0 9 13 * 1", 4)] // six fields: the 13th (a Monday) or any Monday — 6, 13, 20, 27 July, the 13th once
    public void Given_both_day_fields_restricted_Then_a_day_matching_either_fires_as_in_standard_cron(string expression, int julySlots)
    {
        var slots = CronSchedule.Parse(expression, "UTC").Between(Utc("2026-07-01T00:00:00").AddTicks(-1), Utc("2026-07-31T23:59:59"));
        Assert.Equal(julySlots, slots.Count);
    }

    [Fact]
    public void Given_a_bound_When_listing_slots_Then_at_most_that_many_come_back_in_order()
    {
        var slots = CronSchedule.Parse("* * * * * *", "UTC").Between(Utc("2026-12-03T10:00:00"), Utc("2026-12-04T10:00:00"), max: 5);
        Assert.Equal(5, slots.Count);
        Assert.Equal(Utc("2026-12-03T10:00:05"), slots[^1]);
    }
}
