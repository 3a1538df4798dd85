namespace Triggers.Modular.Tenancy.Tests.Support;

/// <summary>A clock the test moves by hand (cache expiry), starting at the real current time.</summary>
internal sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
