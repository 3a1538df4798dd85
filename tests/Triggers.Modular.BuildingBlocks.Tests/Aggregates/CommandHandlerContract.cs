using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Tests.Support;

namespace Triggers.Modular.BuildingBlocks.Tests.Aggregates;

public abstract class CommandHandlerContract
{
    protected abstract StoreKind Kind { get; }

    private sealed record Add(int Amount);
    private sealed record Added(int Amount, int Total);

    /// <summary>A counter that refuses to go above a limit: decisions depend on state, so a stale decision is wrong.</summary>
    private sealed class Counter(int limit) : IDecider<int, Add, Added>
    {
        public int Initial => 0;

        public IReadOnlyList<Added> Decide(int state, Add command) =>
            state + command.Amount > limit ? throw new InvalidOperationException($"Limit {limit} exceeded") : [new Added(command.Amount, state + command.Amount)];

        public int Evolve(int state, Added e) => e.Total;
    }

    private static readonly EventSerializer Serializer = new(new EventTypeRegistry().Register<Added>("counter.added"));

    [Fact]
    public async Task Given_a_stream_When_commands_are_handled_Then_state_is_rebuilt_from_events_and_appends_use_the_read_revision()
    {
        await using var h = await StoreHarness.CreateAsync(Kind);
        var handler = new CommandHandler(h.Store, Serializer);

        var first = await handler.HandleAsync(new Counter(100), "counter-a", new Add(5), EventMetadata.Empty);
        var second = await handler.HandleAsync(new Counter(100), "counter-a", new Add(7), EventMetadata.Empty);

        Assert.Equal((5, 0L), (first.State, first.Revision));
        Assert.Equal((12, 1L), (second.State, second.Revision));
        Assert.Equal((12, 1L), await handler.LoadAsync(new Counter(100), "counter-a"));
        var stored = await h.Store.ReadStreamAsync("counter-a", ReadDirection.Forward, 0, 10);
        Assert.Equal(["""{"amount":5,"total":5}""", """{"amount":7,"total":12}"""], stored.Select(e => e.Data));
    }

    [Fact]
    public async Task Given_a_snapshot_When_loading_or_handling_Then_only_the_events_after_it_are_read_and_the_state_is_the_full_folds()
    {
        await using var h = await StoreHarness.CreateAsync(Kind);
        var handler = new CommandHandler(h.Store, Serializer);
        for (var i = 1; i <= 5; i++) await handler.HandleAsync(new Counter(1000), "counter-s", new Add(i), EventMetadata.Empty); // totals 1,3,6,10,15

        // A snapshot as a read model would keep it (total 6 as of revision 2): the tail (revisions 3, 4) brings it to 15.
        Func<CancellationToken, Task<(int State, long Revision)?>> at2 = _ => Task.FromResult<(int, long)?>((6, 2));
        Assert.Equal((15, 4L), await handler.LoadAsync(new Counter(1000), "counter-s", at2));
        // The snapshot is trusted, not re-derived: a wrong one shows (so the tail alone is read).
        Func<CancellationToken, Task<(int State, long Revision)?>> wrong = _ => Task.FromResult<(int, long)?>((0, 4));
        Assert.Equal((0, 4L), await handler.LoadAsync(new Counter(1000), "counter-s", wrong));
        // No snapshot: from the start.
        Func<CancellationToken, Task<(int State, long Revision)?>> none = _ => Task.FromResult<(int, long)?>(null);
        Assert.Equal((15, 4L), await handler.LoadAsync(new Counter(1000), "counter-s", none));

        // A snapshot behind the stream still appends at the true head (the expected revision comes from the tail read).
        var handled = await handler.HandleAsync(new Counter(1000), "counter-s", new Add(100), EventMetadata.Empty, snapshot: at2);
        Assert.Equal((115, 5L), (handled.State, handled.Revision));
        // Deterministic event ids recognise a replay anywhere in the stream: they need the whole stream, not a snapshot.
        await Assert.ThrowsAsync<ArgumentException>(() =>
            handler.HandleAsync(new Counter(1000), "counter-s", new Add(1), EventMetadata.Empty, eventId: _ => Guid.NewGuid(), snapshot: at2));
    }

    [Fact]
    public async Task Given_concurrent_commands_When_retry_is_allowed_Then_every_command_lands_on_fresh_state()
    {
        await using var h = await StoreHarness.CreateAsync(Kind);
        var handlers = new[] { new CommandHandler(h.Store, Serializer), new CommandHandler(await h.OpenPeerAsync(), Serializer) };

        await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            handlers[i % 2].HandleAsync(new Counter(1000), "counter-b", new Add(1), EventMetadata.Empty, maxAttempts: 50)));

        var (total, revision) = await handlers[0].LoadAsync(new Counter(1000), "counter-b");
        Assert.Equal(12, total);
        Assert.Equal(11, revision);
    }

    [Fact]
    public async Task Given_a_conflict_When_retry_is_not_allowed_Then_the_command_fails_and_writes_nothing()
    {
        await using var h = await StoreHarness.CreateAsync(Kind);
        var handler = new CommandHandler(h.Store, Serializer);
        await handler.HandleAsync(new Counter(100), "counter-c", new Add(1), EventMetadata.Empty);
        // Another writer appends between this command's read and its write.
        var racing = new RacingStore(h.Store, () => h.Store.AppendToStreamAsync("counter-c", ExpectedRevision.Any,
            [Serializer.Serialize(new Added(1, 2), Guid.NewGuid(), EventMetadata.Empty)]));

        await Assert.ThrowsAsync<WrongExpectedRevisionException>(() =>
            new CommandHandler(racing, Serializer).HandleAsync(new Counter(100), "counter-c", new Add(1), EventMetadata.Empty));

        Assert.Equal(2, (await h.Store.ReadStreamAsync("counter-c", ReadDirection.Forward, 0, 10)).Count);
    }

    [Fact]
    public async Task Given_deterministic_event_ids_When_the_same_command_is_retried_after_a_lost_reply_Then_the_store_reports_a_replay()
    {
        await using var h = await StoreHarness.CreateAsync(Kind);
        var handler = new CommandHandler(h.Store, Serializer);
        Guid Ids(int i) => DeterministicId.Create("tenant-1/key-1", i);
        var data = Serializer.Serialize(new Added(3, 3), Ids(0), EventMetadata.Empty);

        var original = await h.Store.AppendToStreamAsync("counter-d", ExpectedRevision.NoStream, [data]);
        var retried = await h.Store.AppendToStreamAsync("counter-d", ExpectedRevision.NoStream, [data]);

        Assert.True(retried.WasIdempotentReplay);
        Assert.Equal(original.Position, retried.Position);
        Assert.Equal((3, 0L), await handler.LoadAsync(new Counter(100), "counter-d"));
    }

    [Fact]
    public async Task Given_a_command_with_deterministic_ids_that_was_applied_When_the_handler_is_called_again_Then_it_is_a_replay_and_writes_nothing()
    {
        await using var h = await StoreHarness.CreateAsync(Kind);
        var handler = new CommandHandler(h.Store, Serializer);
        Guid Ids(int i) => DeterministicId.Create("tenant-1/key-7", i);

        var first = await handler.HandleAsync(new Counter(100), "counter-e", new Add(4), EventMetadata.Empty, Ids);
        var again = await handler.HandleAsync(new Counter(100), "counter-e", new Add(4), EventMetadata.Empty, Ids);

        Assert.False(first.WasReplay);
        Assert.True(again.WasReplay);
        Assert.Empty(again.NewEvents);
        Assert.Equal((4, 0L), (again.State, again.Revision));
        Assert.Single(await h.Store.ReadStreamAsync("counter-e", ReadDirection.Forward, 0, 10));
    }

    /// <summary>Runs <c>race</c> once, right after the handler's first read, before its append.</summary>
    private sealed class RacingStore(IEventStore inner, Func<Task> race) : IEventStore
    {
        private Func<Task>? _race = race;

        public IAppendSignal AppendSignal => inner.AppendSignal;

        public Task<AppendResult> AppendToStreamAsync(string stream, ExpectedRevision expected, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default) =>
            inner.AppendToStreamAsync(stream, expected, events, cancellationToken);

        public async Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string stream, ReadDirection direction, long fromRevision, int maxCount, CancellationToken cancellationToken = default)
        {
            var result = await inner.ReadStreamAsync(stream, direction, fromRevision, maxCount, cancellationToken);
            if (Interlocked.Exchange(ref _race, null) is { } r) await r();
            return result;
        }

        public Task<AllSlice> ReadAllForwardAsync(GlobalPosition after, int maxCount, AllFilter? filter = null, CancellationToken cancellationToken = default) =>
            inner.ReadAllForwardAsync(after, maxCount, filter, cancellationToken);

        public Task<GlobalPosition> ReadHeadPositionAsync(CancellationToken cancellationToken = default) => inner.ReadHeadPositionAsync(cancellationToken);

        public Task<long> CountAllAfterAsync(GlobalPosition after, AllFilter? filter = null, CancellationToken cancellationToken = default) =>
            inner.CountAllAfterAsync(after, filter, cancellationToken);
    }
}

public sealed class SqliteCommandHandlerTests : CommandHandlerContract
{
    protected override StoreKind Kind => StoreKind.Sqlite;
}

public sealed class PostgresCommandHandlerTests : CommandHandlerContract
{
    protected override StoreKind Kind => StoreKind.Postgres;
}
