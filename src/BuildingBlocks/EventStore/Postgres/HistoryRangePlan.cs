namespace Triggers.Modular.BuildingBlocks.EventStore.Postgres;

/// <summary>
/// How a PostgreSQL history query with a created-time range finds its page (docs/adr/0016). Both ways return the same rows;
/// they differ in what they read:
/// <list type="bullet">
/// <item><b>walk</b>: the scope's events in <c>$all</c> order (the scope-position index) from the cursor or the head, each
/// checked against the range — cheap when the range starts where the walk does, but a range further back makes it read
/// every event of the scope in between first (the planner cannot know that: it assumes matches spread evenly).</item>
/// <item><b>range first</b>: the events created in the range, all scopes, through the BRIN index on created_at, then the
/// page's positions by a top-N sort — its cost is the range's size, wherever the range lies.</item>
/// </list>
/// The choice compares the two sizes from a probe of the walk's first events: the time the walk would cross before
/// reaching the range, in events of the scope (the probe's <see cref="ProbeRows"/> scope events span <c>seq</c> numbers,
/// i.e. events of all scopes, in proportion), against the range's own time, in events of all scopes. Event rates are
/// assumed even over time; a wrong guess costs time, never a different answer.
/// </summary>
internal static class HistoryRangePlan
{
    /// <summary>How many of the walk's first events the probe looks at to estimate the scope's share of the store.</summary>
    public const int ProbeRows = 100;

    /// <summary>
    /// The walk's ends as the probe found them: <paramref name="start"/> the first event the walk would read (newest below
    /// the cursor backward, oldest above it forward) and its <c>seq</c>; <paramref name="probeEnd"/> the
    /// <see cref="ProbeRows"/>-th (null when the walk holds fewer) and its <c>seq</c>; <paramref name="farEnd"/> the walk's last
    /// event's created time (the scope's oldest backward, newest forward).
    /// </summary>
    public static bool RangeFirst(bool backward, DateTimeOffset? from, DateTimeOffset? to,
        (DateTimeOffset At, long Seq)? start, (DateTimeOffset At, long Seq)? probeEnd, DateTimeOffset? farEnd)
    {
        if (start is not { } s || probeEnd is not { } k || farEnd is not { } far) return false; // a short walk: walk it
        if (from is null && to is null) return false;

        // Seconds the walk crosses before the first event it can match, and seconds of history inside the range.
        double skip, range;
        if (backward)
        {
            skip = to is { } t ? (s.At - t).TotalSeconds : 0;
            var hi = to is { } t2 && t2 < s.At ? t2 : s.At;
            var lo = from is { } f && f > far ? f : far;
            range = (hi - lo).TotalSeconds;
        }
        else
        {
            skip = from is { } f ? (f - s.At).TotalSeconds : 0;
            var lo = from is { } f2 && f2 > s.At ? f2 : s.At;
            var hi = to is { } t && t < far ? t : far;
            range = (hi - lo).TotalSeconds;
        }

        if (skip <= 0) return false;  // the walk starts inside (or past) the range
        if (range <= 0) return true;  // a range outside the scope's history: the BRIN index finds next to nothing
        // Events of all scopes per event of this scope, near the walk's start (seq numbers every append of every scope).
        var perScopeEvent = Math.Max(1.0, Math.Abs(s.Seq - k.Seq) / (double)(ProbeRows - 1));
        // walk reads ≈ skip × scope rate; range first reads ≈ range × scope rate × perScopeEvent.
        return range * perScopeEvent < skip;
    }
}
