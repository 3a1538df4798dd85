namespace Triggers.Modular.Triggers.Schedules;

/// <summary>
/// What a schedule owes at a moment (issue 8, catch-up): the slots to fire now, oldest first, and the slots missed beyond
/// the catch-up window (counted, with the first and last of them, never silently dropped). <see cref="MissedCount"/> is
/// exact unless <see cref="MissedCountCapped"/> (a very long downtime of a very frequent schedule stops counting at
/// <see cref="SlotPlanner.MaxMissedCounted"/>, and <see cref="LastMissed"/> is then the last slot counted).
/// </summary>
internal sealed record SlotPlan(IReadOnlyList<DateTimeOffset> Fire, long MissedCount, bool MissedCountCapped, DateTimeOffset? FirstMissed,
    DateTimeOffset? LastMissed)
{
    public static SlotPlan Nothing { get; } = new([], 0, false, null, null);
}

/// <summary>Pure: which slots of a schedule are due at <c>now</c>, given the last one fired.</summary>
internal static class SlotPlanner
{
    /// <summary>Slots fired at once after a downtime at most (the rest of the window fires on the next round).</summary>
    public const int MaxFiredPerRound = 1_000;

    public const int MaxMissedCounted = 100_000;

    /// <param name="after">The last slot fired, or the moment the schedule began (its first slot is the first one after).</param>
    /// <param name="window">The catch-up window: slots up to this old fire late; older ones are missed.</param>
    /// <param name="grace">How late a slot may be and still count as on time (the firing loop's own lag), added to the window.</param>
    public static SlotPlan Plan(CronSchedule schedule, DateTimeOffset after, DateTimeOffset now, TimeSpan window, TimeSpan grace)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (now <= after) return SlotPlan.Nothing;
        var oldestOnTime = now - window - grace;
        long missed = 0;
        DateTimeOffset? firstMissed = null, lastMissed = null;
        var cursor = after;
        var capped = false;
        while (schedule.NextAfter(cursor) is { } slot && slot < oldestOnTime && slot <= now)
        {
            if (missed == MaxMissedCounted)
            {
                // Count no further: jump to the window's start (LastMissed is then the last slot counted).
                capped = true;
                cursor = oldestOnTime.AddTicks(-1);
                break;
            }

            missed++;
            firstMissed ??= slot;
            lastMissed = slot;
            cursor = slot;
        }

        var fire = schedule.Between(cursor, now, MaxFiredPerRound);
        return new SlotPlan(fire, missed, capped, firstMissed, lastMissed);
    }
}
