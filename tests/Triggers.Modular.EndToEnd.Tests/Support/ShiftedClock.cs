namespace Triggers.Modular.EndToEnd.Tests.Support;

/// <summary>
/// A host's <see cref="TimeProvider"/> whose wall clock is the real one moved to a chosen instant (<see cref="JumpTo"/>),
/// then running on at real speed; timers and delays are the system's. A whole host can run on it — every loop keeps its
/// real pace — while a test puts "now" just before a daylight-saving transition, or jumps over a downtime, instead of
/// waiting for real minute boundaries.
/// </summary>
public sealed class ShiftedClock : TimeProvider
{
    private long _offsetTicks;

    public ShiftedClock(DateTimeOffset now) => JumpTo(now);

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));

    /// <summary>From now on the clock reads <paramref name="now"/>, and runs on from there.</summary>
    public void JumpTo(DateTimeOffset now) => Interlocked.Exchange(ref _offsetTicks, (now - base.GetUtcNow()).Ticks);
}
