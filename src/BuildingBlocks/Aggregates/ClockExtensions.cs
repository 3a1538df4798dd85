namespace Triggers.Modular.BuildingBlocks.Aggregates;

public static class ClockExtensions
{
    /// <summary>Now, to the millisecond: the precision every store and JSON reader keeps unchanged, so a time decided
    /// into an event reads back equal.</summary>
    public static DateTimeOffset Now(this TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        var now = clock.GetUtcNow();
        return new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
    }
}
