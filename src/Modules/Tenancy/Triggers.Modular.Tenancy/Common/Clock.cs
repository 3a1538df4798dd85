namespace Triggers.Modular.Tenancy.Common;

internal static class ClockExtensions
{
    /// <summary>Now, to the millisecond: the precision every store and JSON reader keeps unchanged.</summary>
    public static DateTimeOffset Now(this TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        return new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
    }
}
