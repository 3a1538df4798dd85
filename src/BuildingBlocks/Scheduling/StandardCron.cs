using Cronos;

namespace Triggers.Modular.BuildingBlocks.Scheduling;

/// <summary>
/// A cron expression with standard (POSIX / Vixie) semantics, over Cronos: 5 fields (minute hour day-of-month month
/// day-of-week), or 6 with seconds first. Where standard cron and Cronos differ — when both day-of-month and day-of-week
/// are restricted, standard cron fires on days matching <em>either</em> (<c>0 9 1 * 1</c>: the 1st and every Monday), Cronos
/// on days matching both — this follows standard cron, by reading such an expression as two (one per day field) and taking
/// the earlier occurrence. Used by validation (Definitions) and by the schedule firing loop (Triggers) alike.
/// </summary>
public sealed class StandardCron
{
    private readonly CronExpression[] _parts;

    private StandardCron(CronExpression[] parts) => _parts = parts;

    /// <summary>Number of whitespace-separated fields.</summary>
    public static int FieldCount(string expression) =>
        (expression ?? throw new ArgumentNullException(nameof(expression))).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>Parses 5 or 6 fields; throws <see cref="CronFormatException"/> (or <see cref="ArgumentException"/>) when invalid.</summary>
    public static StandardCron Parse(string expression)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(expression);
        var fields = expression.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length is not (5 or 6)) throw new CronFormatException($"'{expression}' has {fields.Length} fields; use 5, or 6 with seconds first.");
        var format = fields.Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard;
        var (dom, dow) = (fields.Length - 3, fields.Length - 1);
        if (Unrestricted(fields[dom]) || Unrestricted(fields[dow])) return new StandardCron([CronExpression.Parse(expression, format)]);

        var byDayOfMonth = (string[])fields.Clone();
        byDayOfMonth[dow] = "*";
        var byDayOfWeek = (string[])fields.Clone();
        byDayOfWeek[dom] = "*";
        // Parse the whole first, so an invalid expression reports its own error.
        CronExpression.Parse(expression, format);
        return new StandardCron([CronExpression.Parse(string.Join(' ', byDayOfMonth), format), CronExpression.Parse(string.Join(' ', byDayOfWeek), format)]);
    }

    private static bool Unrestricted(string field) => field is "*" or "?";

    /// <summary>The first occurrence after <paramref name="fromUtc"/> (or at it, when <paramref name="inclusive"/>) in
    /// <paramref name="zone"/>, as a UTC time; null when there is none. Daylight saving as Cronos handles it: an occurrence in
    /// a skipped hour moves to the transition, an interval expression fires in both passes of a repeated hour.</summary>
    public DateTime? GetNextOccurrence(DateTime fromUtc, TimeZoneInfo zone, bool inclusive = false)
    {
        DateTime? earliest = null;
        foreach (var part in _parts)
        {
            var next = part.GetNextOccurrence(fromUtc, zone, inclusive);
            if (next is { } n && (earliest is null || n < earliest)) earliest = n;
        }

        return earliest;
    }
}
