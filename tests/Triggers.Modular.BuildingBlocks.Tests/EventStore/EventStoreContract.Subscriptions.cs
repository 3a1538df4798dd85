using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.EventStore.Subscriptions;

namespace Triggers.Modular.BuildingBlocks.Tests.EventStore;

/// <summary>Catch-up subscriptions to $all: history, then live, from a checkpoint.</summary>
public abstract partial class EventStoreContract
{
    /// <summary>Polling so slow that a delivery within seconds can only come from a wake-up.</summary>
    private static readonly SubscriptionSettings WakeUpsOnly = new(BatchSize: 100, PollInterval: TimeSpan.FromSeconds(60));

    [Fact]
    public async Task Given_history_When_subscribing_from_the_start_Then_history_arrives_in_order_then_caught_up_then_live_appends()
    {
        await using var h = await CreateAsync();
        var history = TestEvents.Batch(5);
        var historyResult = await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.NoStream, history);
        await StoreReads.WaitUntilVisibleAsync(h.Store, historyResult.Position);

        await using var probe = SubscriptionProbe.Start(h.Store, FromAll.Start, settings: new SubscriptionSettings(BatchSize: 2));
        await probe.WaitForCaughtUpAsync();
        var live = TestEvents.Batch(3);
        await h.Store.AppendToStreamAsync("order-2", ExpectedRevision.NoStream, live);
        await probe.WaitForEventsAsync(8);

        var messages = probe.Messages;
        var caughtUpAt = messages.ToList().FindIndex(m => m is SubscriptionMessage.CaughtUp);
        Assert.Equal(history.Select(e => e.EventId),
            messages.Take(caughtUpAt).OfType<SubscriptionMessage.EventAppeared>().Select(m => m.Event.EventId));
        Assert.Equal(historyResult.Position, ((SubscriptionMessage.CaughtUp)messages[caughtUpAt]).Position);
        Assert.Equal(history.Concat(live).Select(e => e.EventId), probe.Events.Select(e => e.EventId));
        Assert.Single(messages.OfType<SubscriptionMessage.CaughtUp>());
        AssertStrictlyIncreasing(probe.Events.Select(e => e.Position));
    }

    [Fact]
    public async Task Given_a_checkpoint_When_subscribing_after_it_Then_only_later_events_arrive()
    {
        await using var h = await CreateAsync();
        var batch = TestEvents.Batch(5);
        var result = await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.NoStream, batch);
        await StoreReads.WaitUntilVisibleAsync(h.Store, result.Position);
        var stored = await StoreReads.ReadStreamAsync(h.Store, "order-1");

        await using var probe = SubscriptionProbe.Start(h.Store, FromAll.AfterPosition(stored[1].Position));
        await probe.WaitForCaughtUpAsync();

        Assert.Equal(batch.Skip(2).Select(e => e.EventId), probe.Events.Select(e => e.EventId));
        Assert.Equal(result.Position, probe.Messages.OfType<SubscriptionMessage.CaughtUp>().Single().Position);
    }

    [Fact]
    public async Task Given_a_caught_up_subscription_When_a_peer_store_instance_appends_Then_the_event_is_delivered_within_seconds_without_polling()
    {
        await using var h = await CreateAsync();
        var peer = await h.OpenPeerAsync();
        await using var onMain = SubscriptionProbe.Start(h.Store, FromAll.Start, settings: WakeUpsOnly);
        await using var onPeer = SubscriptionProbe.Start(peer, FromAll.Start, settings: WakeUpsOnly);
        await onMain.WaitForCaughtUpAsync();
        await onPeer.WaitForCaughtUpAsync();

        var fromPeer = TestEvents.New("peer_wrote");
        await peer.AppendToStreamAsync("order-1", ExpectedRevision.NoStream, [fromPeer]);
        await onMain.WaitForEventsAsync(1, TimeSpan.FromSeconds(5));
        var fromMain = TestEvents.New("main_wrote");
        await h.Store.AppendToStreamAsync("order-2", ExpectedRevision.NoStream, [fromMain]);
        await onPeer.WaitForEventsAsync(2, TimeSpan.FromSeconds(5));
        await onMain.WaitForEventsAsync(2, TimeSpan.FromSeconds(5));

        Assert.Equal([fromPeer.EventId, fromMain.EventId], onMain.Events.Select(e => e.EventId));
        Assert.Equal([fromPeer.EventId, fromMain.EventId], onPeer.Events.Select(e => e.EventId));
    }
}
