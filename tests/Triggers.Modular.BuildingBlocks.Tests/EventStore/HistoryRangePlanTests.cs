using Triggers.Modular.BuildingBlocks.EventStore.Postgres;

namespace Triggers.Modular.BuildingBlocks.Tests.EventStore;

/// <summary>The PostgreSQL history's choice between walking the scope and reading a created-time range first: the cheaper by
/// the probe's estimate (both give the same rows; EventStoreContract.History checks that).</summary>
public sealed class HistoryRangePlanTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset At(double minutes) => T0.AddMinutes(minutes);

    // A scope of 60 % of the store (99 scope events span 165 seq numbers), history from minute 0 to minute 16.
    private static bool Backward(double? from, double? to, long seqSpan = 165) =>
        HistoryRangePlan.RangeFirst(true, from is { } f ? At(f) : null, to is { } t ? At(t) : null, (At(16), 1_000_000), (At(15.99), 1_000_000 - seqSpan), At(0));

    private static bool Forward(double? from, double? to) =>
        HistoryRangePlan.RangeFirst(false, from is { } f ? At(f) : null, to is { } t ? At(t) : null, (At(0), 1_000), (At(0.01), 1_165), At(16));

    [Fact]
    public void Given_a_short_range_far_behind_the_head_Then_the_range_is_read_first() => Assert.True(Backward(8, 9));

    [Fact]
    public void Given_a_range_reaching_the_head_Then_the_scope_is_walked()
    {
        Assert.False(Backward(8, null));
        Assert.False(Backward(8, 20));
        Assert.False(Backward(null, 16.5));
    }

    [Fact]
    public void Given_a_range_longer_than_the_time_behind_it_Then_the_scope_is_walked() => Assert.False(Backward(2, 14));

    [Fact]
    public void Given_a_scope_with_a_small_share_of_the_store_Then_a_range_reading_every_scope_is_read_first_only_when_much_shorter()
    {
        Assert.False(Backward(8, 9, seqSpan: 99 * 100)); // 1 % of the store: 1 minute of everything > 7 minutes of the scope
        Assert.True(Backward(8, 8.01, seqSpan: 99 * 100));
    }

    [Fact]
    public void Given_a_range_outside_the_history_Then_the_range_is_read_first() => Assert.True(Backward(-60, -30));

    [Fact]
    public void Given_oldest_first_Then_a_range_far_from_the_start_is_read_first_and_one_at_the_start_is_walked()
    {
        Assert.True(Forward(8, 9));
        Assert.False(Forward(null, 9));
        Assert.False(Forward(0, 9));
    }

    [Fact]
    public void Given_a_walk_shorter_than_the_probe_Then_it_is_walked() =>
        Assert.False(HistoryRangePlan.RangeFirst(true, At(1), At(2), (At(16), 10), null, At(0)));
}
