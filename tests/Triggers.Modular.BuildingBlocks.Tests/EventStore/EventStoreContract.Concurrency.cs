using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.EventStore.Subscriptions;
using Triggers.Modular.BuildingBlocks.Tests.Support;

namespace Triggers.Modular.BuildingBlocks.Tests.EventStore;

/// <summary>Concurrent writers: one winner per expectation, nothing lost, nothing skipped by readers of $all.</summary>
public abstract partial class EventStoreContract
{
    /// <summary>The main store and two peers (other "processes" on the same data), to spread writers over.</summary>
    private static async Task<IEventStore[]> WritersAsync(StoreHarness h) => [h.Store, await h.OpenPeerAsync(), await h.OpenPeerAsync()];

    [Theory]
    [InlineData("exact")]
    [InlineData("no_stream")]
    public async Task Given_10_parallel_appends_with_the_same_expected_revision_When_they_race_Then_exactly_one_wins_and_the_rest_get_WrongExpectedRevision(
        string expectation)
    {
        const int Racers = 10;
        await using var h = await CreateAsync();
        var seed = expectation == "exact" ? await SeedAsync(h, "order-1", 1) : [];
        var expected = expectation == "exact" ? ExpectedRevision.Exactly(0) : ExpectedRevision.NoStream;
        var stores = await WritersAsync(h);
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batches = Enumerable.Range(0, Racers).Select(_ => TestEvents.Batch(2)).ToArray();
        var racers = Enumerable.Range(0, Racers).Select(i => Task.Run(async () =>
        {
            await go.Task;
            return await stores[i % stores.Length].AppendToStreamAsync("order-1", expected, batches[i]);
        })).ToArray();

        go.SetResult();
        await Task.WhenAny(Task.WhenAll(racers), Task.Delay(TimeSpan.FromSeconds(30)));

        Assert.All(racers, r => Assert.True(r.IsCompleted, "every racer finished"));
        var winners = Enumerable.Range(0, Racers).Where(i => racers[i].IsCompletedSuccessfully).ToList();
        var winner = Assert.Single(winners);
        Assert.Equal(seed.Count + 1, (await racers[winner]).NextExpectedRevision);
        foreach (var loser in racers.Where(r => !r.IsCompletedSuccessfully))
        {
            var ex = Assert.IsType<WrongExpectedRevisionException>(loser.Exception!.InnerException);
            Assert.Equal(seed.Count + 1, ex.ActualRevision);
        }

        var expectedIds = seed.Concat(batches[winner]).Select(e => e.EventId).ToList();
        Assert.Equal(expectedIds, (await StoreReads.ReadStreamAsync(h.Store, "order-1")).Select(e => e.EventId));
        Assert.Equal(expectedIds, (await StoreReads.ReadAllSettledAsync(h.Store)).Select(e => e.EventId));
    }

    [Fact]
    public async Task Given_20_parallel_any_appends_to_one_stream_When_they_race_Then_none_is_lost_and_revisions_are_contiguous_in_all_order()
    {
        const int Racers = 20;
        await using var h = await CreateAsync();
        var stores = await WritersAsync(h);
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var events = Enumerable.Range(0, Racers).Select(_ => TestEvents.New()).ToArray();
        var racers = Enumerable.Range(0, Racers).Select(i => Task.Run(async () =>
        {
            await go.Task;
            return await stores[i % stores.Length].AppendToStreamAsync("order-1", ExpectedRevision.Any, [events[i]]);
        })).ToArray();

        go.SetResult();
        var results = await Task.WhenAll(racers).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(Enumerable.Range(0, Racers).Select(i => (long)i), results.Select(r => r.NextExpectedRevision).Order());
        var stream = await StoreReads.ReadStreamAsync(h.Store, "order-1");
        Assert.Equal(Enumerable.Range(0, Racers).Select(i => (long)i), stream.Select(e => e.Revision));
        Assert.Equal(events.Select(e => e.EventId).Order(), stream.Select(e => e.EventId).Order());
        for (var i = 0; i < Racers; i++)
        {
            // Each append's result names the revision and position its own event got.
            var stored = stream.Single(e => e.EventId == events[i].EventId);
            Assert.Equal(results[i].NextExpectedRevision, stored.Revision);
            Assert.Equal(results[i].Position, stored.Position);
        }

        var all = await StoreReads.ReadAllSettledAsync(h.Store);
        Assert.Equal(stream.Select(e => e.EventId), all.Select(e => e.EventId));
        Assert.Equal(Enumerable.Range(0, Racers).Select(i => (long)i), all.Select(e => e.Revision));
        AssertStrictlyIncreasing(all.Select(e => e.Position));
    }

    [Fact]
    public async Task Given_parallel_any_appends_of_batches_When_they_race_Then_each_batch_occupies_consecutive_revisions_in_all_order()
    {
        const int Racers = 8;
        const int BatchSize = 3;
        await using var h = await CreateAsync();
        var stores = await WritersAsync(h);
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batches = Enumerable.Range(0, Racers).Select(_ => TestEvents.Batch(BatchSize)).ToArray();
        var racers = Enumerable.Range(0, Racers).Select(i => Task.Run(async () =>
        {
            await go.Task;
            return await stores[i % stores.Length].AppendToStreamAsync("order-1", ExpectedRevision.Any, batches[i]);
        })).ToArray();

        go.SetResult();
        var results = await Task.WhenAll(racers).WaitAsync(TimeSpan.FromSeconds(30));

        var stream = await StoreReads.ReadStreamAsync(h.Store, "order-1");
        Assert.Equal(Enumerable.Range(0, Racers * BatchSize).Select(i => (long)i), stream.Select(e => e.Revision));
        for (var i = 0; i < Racers; i++)
        {
            var last = (int)results[i].NextExpectedRevision;
            Assert.Equal(batches[i].Select(e => e.EventId), stream.Skip(last - BatchSize + 1).Take(BatchSize).Select(e => e.EventId));
        }

        var all = await StoreReads.ReadAllSettledAsync(h.Store);
        Assert.Equal(stream.Select(e => e.EventId), all.Select(e => e.EventId));
        AssertStrictlyIncreasing(all.Select(e => e.Position));
    }

    [Fact]
    public async Task Given_a_transaction_held_open_When_a_later_append_commits_Then_a_subscriber_sees_neither_until_the_first_commits_then_both_in_order_once()
    {
        await using var h = await CreateAsync();
        var counting = new CountingEventStore(h.Store);
        await using var probe = SubscriptionProbe.Start(counting, FromAll.Start);
        await probe.WaitForCaughtUpAsync();
        var heldEvent = TestEvents.New("held_thing");
        var laterEvent = TestEvents.New("later_thing");

        var held = await h.Transactions.BeginAppendAsync("slow-1", ExpectedRevision.NoStream, [heldEvent]);
        Task<AppendResult> later;
        AppendResult heldResult;
        try
        {
            // PostgreSQL: the later append commits while the first is open. SQLite (one writer): it queues behind it.
            later = Task.Run(() => h.Store.AppendToStreamAsync("fast-1", ExpectedRevision.NoStream, [laterEvent]));
            if (Kind == StoreKind.Postgres)
            {
                await later.WaitAsync(TimeSpan.FromSeconds(15));
                Assert.Single(await StoreReads.ReadStreamAsync(h.Store, "fast-1"));
            }

            // The subscriber looks several times while the first transaction is open and sees nothing.
            await counting.WaitForMoreReadsAsync(5);
            Assert.Empty(probe.Events);
            var slice = await h.Store.ReadAllForwardAsync(GlobalPosition.Start, 100);
            Assert.Empty(slice.Events);
            Assert.Equal(later.IsCompletedSuccessfully, slice.HeldBack);
            Assert.Equal(GlobalPosition.Start, await h.Store.ReadHeadPositionAsync());
            Assert.Equal(0, await h.Store.CountAllAfterAsync(GlobalPosition.Start));

            heldResult = await held.CommitAsync();
        }
        finally
        {
            await held.DisposeAsync();
        }

        var laterResult = await later.WaitAsync(TimeSpan.FromSeconds(15));
        await probe.WaitForEventsAsync(2);
        await counting.WaitForMoreReadsAsync(5);

        var delivered = probe.Events;
        Assert.Equal([heldEvent.EventId, laterEvent.EventId], delivered.Select(e => e.EventId));
        Assert.Equal([heldResult.Position, laterResult.Position], delivered.Select(e => e.Position));
        Assert.True(heldResult.Position < laterResult.Position, "the held append sorts first in $all");
    }

    [Fact]
    public async Task Given_a_transaction_held_open_When_it_is_rolled_back_Then_the_subscriber_is_not_stalled_and_gets_the_later_append_within_seconds()
    {
        await using var h = await CreateAsync();
        var counting = new CountingEventStore(h.Store);
        await using var probe = SubscriptionProbe.Start(counting, FromAll.Start);
        await probe.WaitForCaughtUpAsync();
        var heldEvent = TestEvents.New("held_thing");
        var laterEvent = TestEvents.New("later_thing");

        var held = await h.Transactions.BeginAppendAsync("slow-1", ExpectedRevision.NoStream, [heldEvent]);
        Task<AppendResult> later;
        try
        {
            later = Task.Run(() => h.Store.AppendToStreamAsync("fast-1", ExpectedRevision.NoStream, [laterEvent]));
            if (Kind == StoreKind.Postgres) await later.WaitAsync(TimeSpan.FromSeconds(15));
            await counting.WaitForMoreReadsAsync(3);
            Assert.Empty(probe.Events);
        }
        finally
        {
            await held.DisposeAsync(); // no commit: rolled back
        }

        var laterResult = await later.WaitAsync(TimeSpan.FromSeconds(15));
        await probe.WaitForEventsAsync(1, TimeSpan.FromSeconds(5));
        await counting.WaitForMoreReadsAsync(5);

        var delivered = Assert.Single(probe.Events);
        Assert.Equal(laterEvent.EventId, delivered.EventId);
        Assert.Equal(laterResult.Position, delivered.Position);
        Assert.Empty(await StoreReads.ReadStreamAsync(h.Store, "slow-1"));
        Assert.Equal([laterEvent.EventId], (await StoreReads.ReadAllSettledAsync(h.Store)).Select(e => e.EventId));
        // The rolled-back stream was never created.
        Assert.Equal(0, (await h.Store.AppendToStreamAsync("slow-1", ExpectedRevision.NoStream, [TestEvents.New()])).NextExpectedRevision);
    }

    private static void AssertStrictlyIncreasing(IEnumerable<GlobalPosition> positions)
    {
        GlobalPosition? previous = null;
        foreach (var position in positions)
        {
            Assert.True(previous is null || position > previous.Value, $"position {position} follows {previous}");
            previous = position;
        }
    }
}
