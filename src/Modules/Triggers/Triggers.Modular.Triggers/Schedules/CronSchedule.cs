using System.Globalization;
using Triggers.Modular.BuildingBlocks.Scheduling;

namespace Triggers.Modular.Triggers.Schedules;

/// <summary>
/// A schedule trigger's cadence (SPEC §4, issue 8): a cron expression (5 fields, or 6 with seconds first) read in an IANA
/// time zone, and the slots it yields. Daylight-saving policy, in wall-clock terms of the zone:
/// <list type="bullet">
/// <item>a slot in a <b>skipped</b> hour (spring forward) fires once, at the transition — several such slots (<c>*/15</c>)
/// fire together, once, as one slot, which is also the transition's own slot when the expression has one;</item>
/// <item>a slot in a <b>repeated</b> hour (fall back) fires once, in its first pass — also for interval expressions, which
/// Cronos would otherwise fire in both passes.</item>
/// </list>
/// A slot is named by its local wall-clock time with the zone's offset then (<see cref="SlotKey"/>): a name is one instant,
/// so a deterministic execution id derived from it never collides with another slot's — also after the trigger's zone
/// changes (10:00 in UTC and 10:00 in New York are different slots).
/// </summary>
internal sealed class CronSchedule
{
    private readonly StandardCron _cron;

    private CronSchedule(StandardCron cron, TimeZoneInfo zone)
    {
        _cron = cron;
        Zone = zone;
    }

    public TimeZoneInfo Zone { get; }

    /// <summary>Reads an expression the Definitions module validated; <paramref name="timezone"/> null means UTC.</summary>
    public static CronSchedule Parse(string expression, string? timezone)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(expression);
        var cron = StandardCron.Parse(expression);
        var zone = timezone is null ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(timezone);
        return new CronSchedule(cron, zone);
    }

    /// <summary>The first slot strictly after <paramref name="after"/>, as the instant it fires; null when none is left.</summary>
    public DateTimeOffset? NextAfter(DateTimeOffset after)
    {
        var from = after.UtcDateTime;
        while (true)
        {
            var next = _cron.GetNextOccurrence(from, Zone, inclusive: false);
            if (next is null) return null;
            if (!IsSecondPassOfFiredSlot(next.Value)) return new DateTimeOffset(next.Value, TimeSpan.Zero);
            from = next.Value;
        }
    }

    /// <summary>The slots after <paramref name="fromExclusive"/> up to <paramref name="toInclusive"/>, in order (catch-up
    /// after downtime); at most <paramref name="max"/>.</summary>
    public IReadOnlyList<DateTimeOffset> Between(DateTimeOffset fromExclusive, DateTimeOffset toInclusive, int max = 10_000)
    {
        var slots = new List<DateTimeOffset>();
        var cursor = fromExclusive;
        while (slots.Count < max && NextAfter(cursor) is { } next && next <= toInclusive)
        {
            slots.Add(next);
            cursor = next;
        }

        return slots;
    }

    /// <summary>The slot's name: its local wall-clock time in the zone, to the second, with the offset in force
    /// (<c>2026-11-01T01:30:00-04:00</c>).</summary>
    public string SlotKey(DateTimeOffset firesAt) =>
        TimeZoneInfo.ConvertTime(firesAt, Zone).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    /// <summary>True for an occurrence in the second pass of a repeated hour whose first pass was an occurrence too.</summary>
    private bool IsSecondPassOfFiredSlot(DateTime utc)
    {
        var local = TimeZoneInfo.ConvertTimeFromUtc(utc, Zone);
        if (!Zone.IsAmbiguousTime(local)) return false;
        var offsets = Zone.GetAmbiguousTimeOffsets(local);
        var first = local - offsets.Max(); // the earlier instant carries the larger offset (daylight time)
        var firstUtc = DateTime.SpecifyKind(first, DateTimeKind.Utc);
        if (firstUtc >= utc) return false; // this is the first pass
        var firstPass = _cron.GetNextOccurrence(firstUtc.AddTicks(-1), Zone, inclusive: false);
        return firstPass == firstUtc;
    }
}
