using System.Collections.Concurrent;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.EventStore.Subscriptions;

namespace Triggers.Modular.BuildingBlocks.Tests.EventStore;

/// <summary>Random writers (with held and rolled-back transactions) against subscribers that keep restarting.</summary>
public abstract partial class EventStoreContract
{
    [Fact]
    public async Task Given_random_concurrent_writers_with_rollbacks_When_subscribers_stop_and_restart_from_their_checkpoints_Then_delivered_equals_committed_and_positions_strictly_increase()
    {
        const int Writers = 4;
        const int AppendsPerWriter = 25;
        var seed = Random.Shared.Next();
        var because = $"(random seed {seed})";
        await using var h = await CreateAsync();
        var stores = await WritersAsync(h);
        string[] streams = ["alpha-1", "alpha-2", "alpha-3", "beta-1", "beta-2", "beta-3"];
        var committed = new ConcurrentDictionary<Guid, string>();
        var committedPositions = new ConcurrentBag<GlobalPosition>();
        var rolledBack = new ConcurrentBag<Guid>();
        var target = new SharedTarget();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        RestartingSubscriber[] subscribers =
        [
            new(h.Store, null, seed + 1),
            new(stores[1], null, seed + 2),
            new(h.Store, AllFilter.ForCategories("beta"), seed + 3),
        ];
        var subscribing = subscribers.Select(s => Task.Run(() => s.RunAsync(target, deadline.Token))).ToArray();

        async Task WriteAsync(int writerSeed)
        {
            var rng = new Random(writerSeed);
            for (var i = 0; i < AppendsPerWriter; i++)
            {
                var store = stores[rng.Next(stores.Length)];
                var stream = streams[rng.Next(streams.Length)];
                var batch = TestEvents.Batch(rng.Next(1, 6), $"{StreamName.CategoryOf(stream)}_happened");
                var mode = rng.Next(100);
                if (mode < 55)
                {
                    Record(stream, batch, await store.AppendToStreamAsync(stream, ExpectedRevision.Any, batch));
                }
                else if (mode < 70)
                {
                    var last = await store.ReadStreamAsync(stream, ReadDirection.Backward, long.MaxValue, 1);
                    var expected = last.Count == 0 ? ExpectedRevision.NoStream : ExpectedRevision.Exactly(last[0].Revision);
                    try
                    {
                        Record(stream, batch, await store.AppendToStreamAsync(stream, expected, batch));
                    }
                    catch (WrongExpectedRevisionException)
                    {
                        // another writer got there first: nothing written
                    }
                }
                else
                {
                    var pending = await ((IAppendTransactions)store).BeginAppendAsync(stream, ExpectedRevision.Any, batch);
                    try
                    {
                        await Task.Delay(rng.Next(0, 8));
                        if (mode < 85)
                            Record(stream, batch, await pending.CommitAsync());
                        else
                            foreach (var e in batch) rolledBack.Add(e.EventId);
                    }
                    finally
                    {
                        await pending.DisposeAsync();
                    }
                }
            }
        }

        void Record(string stream, EventData[] batch, AppendResult result)
        {
            foreach (var e in batch) committed[e.EventId] = stream;
            committedPositions.Add(result.Position);
        }

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriteAsync(seed + 100 + w))));
        target.Set(committedPositions.Max());
        await Task.WhenAll(subscribing);

        Assert.NotEmpty(rolledBack);
        var committedIds = committed.Keys.Order().ToList();
        var betaIds = committed.Where(c => c.Value.StartsWith("beta-", StringComparison.Ordinal)).Select(c => c.Key).Order().ToList();
        foreach (var (subscriber, expected) in new[] { (subscribers[0], committedIds), (subscribers[1], committedIds), (subscribers[2], betaIds) })
        {
            Assert.True(subscriber.Violations.IsEmpty, $"{string.Join("; ", subscriber.Violations)} {because}");
            Assert.True(subscriber.Sessions > 1, $"the subscriber restarted ({subscriber.Sessions} sessions) {because}");
            var delivered = subscriber.Delivered.Select(e => e.EventId).ToList();
            Assert.True(delivered.Count == delivered.Distinct().Count(), $"no event delivered twice {because}");
            Assert.True(expected.SequenceEqual(delivered.Order()),
                $"delivered {delivered.Count} events, committed {expected.Count} {because}");
            Assert.DoesNotContain(subscriber.Delivered, e => rolledBack.Contains(e.EventId));
            foreach (var group in subscriber.Delivered.GroupBy(e => e.StreamName))
                Assert.True(group.Select(e => e.Revision).SequenceEqual(group.Select(e => e.Revision).Order()),
                    $"{group.Key} delivered in revision order {because}");
        }

        foreach (var stream in streams)
        {
            var stored = await StoreReads.ReadStreamAsync(h.Store, stream);
            Assert.Equal(Enumerable.Range(0, stored.Count).Select(i => (long)i), stored.Select(e => e.Revision));
            Assert.Equal(committed.Where(c => c.Value == stream).Select(c => c.Key).Order(), stored.Select(e => e.EventId).Order());
        }

        var all = await StoreReads.ReadAllSettledAsync(h.Store);
        Assert.Equal(subscribers[0].Delivered.Select(e => e.EventId), all.Select(e => e.EventId));
        Assert.Equal(subscribers[1].Delivered.Select(e => e.EventId), all.Select(e => e.EventId));
    }

    /// <summary>The position subscribers must reach before they stop, known once the writers are done.</summary>
    private sealed class SharedTarget
    {
        private readonly Lock _gate = new();
        private GlobalPosition? _value;

        public GlobalPosition? Value
        {
            get
            {
                lock (_gate) return _value;
            }
        }

        public void Set(GlobalPosition value)
        {
            lock (_gate) _value = value;
        }
    }

    /// <summary>
    /// A subscriber that keeps stopping (after a random number of messages or a random time) and restarting from the
    /// last position it handled: the position of its last event, or the last checkpoint it was given.
    /// </summary>
    private sealed class RestartingSubscriber(IEventStore store, AllFilter? filter, int seed)
    {
        private readonly Random _rng = new(seed);

        public List<RecordedEvent> Delivered { get; } = [];
        public ConcurrentQueue<string> Violations { get; } = new();
        public GlobalPosition Checkpoint { get; private set; } = GlobalPosition.Start;
        public int Sessions { get; private set; }

        public async Task RunAsync(SharedTarget target, CancellationToken deadline)
        {
            while (target.Value is not { } end || Checkpoint < end)
            {
                deadline.ThrowIfCancellationRequested();
                Sessions++;
                using var session = CancellationTokenSource.CreateLinkedTokenSource(deadline);
                session.CancelAfter(TimeSpan.FromMilliseconds(_rng.Next(20, 300)));
                var budget = _rng.Next(1, 40);
                var settings = new SubscriptionSettings(BatchSize: _rng.Next(1, 30), PollInterval: TimeSpan.FromMilliseconds(50));
                try
                {
                    await foreach (var message in store.SubscribeToAllAsync(FromAll.AfterPosition(Checkpoint), filter, settings, session.Token))
                    {
                        switch (message)
                        {
                            case SubscriptionMessage.EventAppeared appeared:
                                if (appeared.Event.Position <= Checkpoint)
                                    Violations.Enqueue($"event at {appeared.Event.Position} delivered after checkpoint {Checkpoint}");
                                Delivered.Add(appeared.Event);
                                Checkpoint = appeared.Event.Position;
                                break;
                            case SubscriptionMessage.CheckpointReached reached:
                                if (reached.Position <= Checkpoint)
                                    Violations.Enqueue($"checkpoint {reached.Position} does not move past {Checkpoint}");
                                Checkpoint = reached.Position;
                                break;
                            case SubscriptionMessage.CaughtUp caughtUp:
                                if (caughtUp.Position != Checkpoint)
                                    Violations.Enqueue($"caught up at {caughtUp.Position} but the last position handled is {Checkpoint}");
                                break;
                        }

                        if (--budget == 0) break;
                    }
                }
                catch (OperationCanceledException) when (!deadline.IsCancellationRequested)
                {
                    // this session's time is up: restart from the checkpoint
                }
            }
        }
    }
}
