using Microsoft.Extensions.Logging.Abstractions;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.EventStore.Subscriptions;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Tests.Support;

namespace Triggers.Modular.BuildingBlocks.Tests.Projections;

public abstract partial class ProjectionRuntimeContract
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    protected static readonly ProjectionRunnerOptions Fast = new() { BatchSize = 7, PollInterval = TimeSpan.FromMilliseconds(100), RetryDelay = TimeSpan.FromMilliseconds(50) };

    protected abstract StoreKind Kind { get; }

    [Fact]
    public async Task Given_events_When_the_projection_runs_Then_each_event_is_applied_once_in_order_and_lag_reaches_zero()
    {
        await using var h = await CreateAsync();
        var ids = await AppendAsync(h, streams: 4, perStream: 10);
        var projection = new LogProjection();
        using var cts = new CancellationTokenSource();
        var runner = new ProjectionRunner(projection, h.Store, h.Database, Fast, NullLogger.Instance);
        var run = runner.RunAsync(cts.Token);

        ids.AddRange(await AppendAsync(h, streams: 2, perStream: 5, prefix: "late"));
        await WaitUntilAsync(async () => (await LogProjection.ApplicationsAsync(h.Database)).Count == ids.Count);
        await WaitUntilAsync(() => Task.FromResult(runner.State == ProjectionState.Live));

        var applied = await LogProjection.ApplicationsAsync(h.Database);
        Assert.Equal(ids.Select(i => i.ToString()).Order(StringComparer.Ordinal), applied.Select(a => a.EventId));
        Assert.All(applied, a => Assert.Equal(1, a.Applications));
        Assert.Equal(await h.Store.ReadHeadPositionAsync(), runner.Checkpoint);
        Assert.Equal(0, await h.Store.CountAllAfterAsync(runner.Checkpoint));
        // Applied in stream order: the summary concatenates types, which carry the revision.
        Assert.Contains("order-0|10|t0,t1,t2,t3,t4,t5,t6,t7,t8,t9", await LogProjection.SummaryAsync(h.Database));
        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Given_a_failure_between_the_read_model_write_and_the_checkpoint_When_the_runner_retries_Then_nothing_is_applied_twice()
    {
        await using var h = await CreateAsync();
        var ids = await AppendAsync(h, streams: 3, perStream: 10);
        var projection = new LogProjection { FailOnceAfterWriting = ids[17] };
        using var cts = new CancellationTokenSource();
        var runner = new ProjectionRunner(projection, h.Store, h.Database, Fast, NullLogger.Instance);
        var run = runner.RunAsync(cts.Token);

        await WaitUntilAsync(async () => (await LogProjection.ApplicationsAsync(h.Database)).Count == ids.Count && runner.State == ProjectionState.Live);
        await cts.CancelAsync();
        await run;

        Assert.Equal(1, projection.Failures);
        var applied = await LogProjection.ApplicationsAsync(h.Database);
        Assert.Equal(ids.Count, applied.Count);
        Assert.All(applied, a => Assert.Equal(1, a.Applications));
    }

    [Fact]
    public async Task Given_two_instances_of_one_projection_When_both_run_Then_each_event_is_applied_exactly_once()
    {
        await using var h = await CreateAsync();
        var ids = await AppendAsync(h, streams: 5, perStream: 20);
        using var cts = new CancellationTokenSource();
        var peerStore = await h.OpenPeerAsync();
        var a = new ProjectionRunner(new LogProjection(), h.Store, h.Database, Fast, NullLogger.Instance);
        var b = new ProjectionRunner(new LogProjection(), peerStore, h.OpenDatabase(), Fast, NullLogger.Instance);
        var runs = new[] { a.RunAsync(cts.Token), b.RunAsync(cts.Token) };
        ids.AddRange(await AppendAsync(h, streams: 3, perStream: 10, prefix: "more"));

        await WaitUntilAsync(async () => (await LogProjection.ApplicationsAsync(h.Database)).Count == ids.Count
                                         && (a.State == ProjectionState.Live || b.State == ProjectionState.Live));
        await cts.CancelAsync();
        await Task.WhenAll(runs);

        Assert.All(await LogProjection.ApplicationsAsync(h.Database), x => Assert.Equal(1, x.Applications));
    }

    [Fact]
    public async Task Given_a_live_projection_When_it_is_reset_and_rebuilt_Then_the_read_model_equals_the_live_one()
    {
        await using var h = await CreateAsync();
        var ids = await AppendAsync(h, streams: 6, perStream: 12);
        var projection = new LogProjection();
        using var cts = new CancellationTokenSource();
        var runner = new ProjectionRunner(projection, h.Store, h.Database, Fast, NullLogger.Instance);
        var run = runner.RunAsync(cts.Token);
        await WaitUntilAsync(async () => (await LogProjection.ApplicationsAsync(h.Database)).Count == ids.Count);
        var live = await LogProjection.SummaryAsync(h.Database);
        var liveLog = await LogProjection.ApplicationsAsync(h.Database);
        var liveCheckpoint = runner.Checkpoint;

        await ProjectionHost.ResetAsync(projection, h.Database);
        await WaitUntilAsync(async () => runner.Checkpoint == liveCheckpoint && runner.State == ProjectionState.Live
                                         && (await LogProjection.ApplicationsAsync(h.Database)).Count == ids.Count);

        Assert.Equal(live, await LogProjection.SummaryAsync(h.Database));
        Assert.Equal(liveLog, await LogProjection.ApplicationsAsync(h.Database));
        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Given_a_filter_that_matches_nothing_When_events_arrive_Then_the_checkpoint_still_advances_to_the_head()
    {
        await using var h = await CreateAsync();
        await AppendAsync(h, streams: 2, perStream: 30);
        var runner = new ProjectionRunner(new LogProjection("none", AllFilter.ForCategories("nothing_here")), h.Store, h.Database, Fast, NullLogger.Instance);
        using var cts = new CancellationTokenSource();
        var run = runner.RunAsync(cts.Token);
        // The head is the position of the last event appended (appends ran one after the other). Reading it through $all
        // instead could come up short: on a shared PostgreSQL cluster a transaction in another database can hold part of
        // this store back from readers for a moment, and the runner then passes the head read at that moment.
        var head = (await h.Store.ReadStreamAsync("order-1", ReadDirection.Backward, long.MaxValue, 1))[0].Position;

        await WaitUntilAsync(() => Task.FromResult(runner.Checkpoint == head));
        await cts.CancelAsync();
        await run;

        Assert.Empty(await LogProjection.ApplicationsAsync(h.Database));
        await using var c = await h.Database.OpenConnectionAsync();
        Assert.Equal(head, await ProjectionCheckpoints.LoadAsync(c, "none", CancellationToken.None));
    }

    [Fact]
    public async Task Given_a_processor_that_appends_for_each_event_When_it_runs_Then_every_event_gets_its_effect_once_and_the_checkpoint_reaches_the_head()
    {
        await using var h = await CreateAsync();
        var ids = await AppendAsync(h, streams: 3, perStream: 6);
        var processor = new EchoProcessor(h.Store);
        using var cts = new CancellationTokenSource();
        var runner = new ProjectionRunner(new EventProcessorProjection(processor), h.Store, h.Database, Fast, NullLogger.Instance);
        var run = runner.RunAsync(cts.Token);

        ids.AddRange(await AppendAsync(h, streams: 2, perStream: 4, prefix: "late"));
        await WaitUntilAsync(() => Task.FromResult(processor.Handled.Count == ids.Count && runner.State == ProjectionState.Live));
        await WaitUntilAsync(async () => await h.Store.ReadHeadPositionAsync() == runner.Checkpoint);
        await cts.CancelAsync();
        await run;

        // Its own appends (echo-*) are outside its filter, so the head it reached includes them and nothing loops.
        Assert.Equal(ids.Order(), processor.Handled.Keys.Order());
        Assert.All(processor.Handled.Values, n => Assert.Equal(1, n));
        foreach (var id in ids)
            Assert.Single(await h.Store.ReadStreamAsync($"echo-{id:N}", ReadDirection.Forward, 0, 10));
    }

    [Fact]
    public async Task Given_a_processor_failing_once_mid_page_When_the_runner_retries_Then_every_event_is_handled_again_from_the_checkpoint_and_each_effect_stored_once()
    {
        await using var h = await CreateAsync();
        var ids = await AppendAsync(h, streams: 2, perStream: 10);
        var processor = new EchoProcessor(h.Store) { FailOnceOnPage = 2 };
        using var cts = new CancellationTokenSource();
        var runner = new ProjectionRunner(new EventProcessorProjection(processor), h.Store, h.Database, Fast, NullLogger.Instance);
        var run = runner.RunAsync(cts.Token);

        await WaitUntilAsync(() => Task.FromResult(processor.Handled.Count == ids.Count && runner.State == ProjectionState.Live));
        await cts.CancelAsync();
        await run;

        Assert.Equal(1, processor.Failures);
        // At least once: the failed page's earlier events were handed again; their effects were not stored twice.
        Assert.Contains(processor.Handled.Values, n => n > 1);
        Assert.Equal(ids.Order(), processor.Handled.Keys.Order());
        foreach (var id in ids)
            Assert.Single(await h.Store.ReadStreamAsync($"echo-{id:N}", ReadDirection.Forward, 0, 10));
    }

    [Fact]
    public async Task Given_a_shared_tail_with_a_small_window_When_events_arrive_while_the_projection_runs_Then_each_is_applied_once_in_order()
    {
        await using var h = await CreateAsync();
        var ids = await AppendAsync(h, streams: 3, perStream: 5);
        // A window of 8 events: the runner reads the store while behind it and the window once it is near the head.
        var tail = new AllTail(h.Store, new AllTailOptions { PageSize = 5, MaxEvents = 8, PollInterval = TimeSpan.FromMilliseconds(100) }, NullLogger.Instance);
        var projection = new LogProjection("tailed", AllFilter.ForCategories("order"));
        using var cts = new CancellationTokenSource();
        var tailRun = tail.RunAsync(cts.Token);
        var runner = new ProjectionRunner(projection, h.Store, h.Database, Fast, NullLogger.Instance, tail);
        var run = runner.RunAsync(cts.Token);

        for (var round = 0; round < 4; round++)
        {
            ids.AddRange(await AppendAsync(h, streams: 2, perStream: 6, prefix: $"r{round}-"));
            // Events the projection does not receive, between and among its own.
            await h.Store.AppendToStreamAsync($"other-{round}", ExpectedRevision.Any,
                [.. Enumerable.Range(0, 9).Select(i => new EventData(Guid.NewGuid(), $"x{i}", """{"n":1}""", EventMetadata.Empty))]);
        }

        await WaitUntilAsync(async () => (await LogProjection.ApplicationsAsync(h.Database)).Count == ids.Count && runner.State == ProjectionState.Live);
        var head = (await h.Store.ReadStreamAsync("other-3", ReadDirection.Backward, long.MaxValue, 1))[0].Position;
        await WaitUntilAsync(() => Task.FromResult(runner.Checkpoint >= head));
        await cts.CancelAsync();
        await Task.WhenAll(run, tailRun);

        Assert.True(tail.WindowStart > GlobalPosition.Start, "the window never moved: the test did not exercise trimming");
        var applied = await LogProjection.ApplicationsAsync(h.Database);
        Assert.Equal(ids.Select(i => i.ToString()).Order(StringComparer.Ordinal), applied.Select(a => a.EventId));
        Assert.All(applied, a => Assert.Equal(1, a.Applications));
        Assert.Contains("order-r3-1|6|t0,t1,t2,t3,t4,t5", await LogProjection.SummaryAsync(h.Database));
        // Stopping wrote the checkpoint it had scanned past the events it does not receive.
        await using var c = await h.Database.OpenConnectionAsync();
        Assert.True(await ProjectionCheckpoints.LoadAsync(c, "tailed", CancellationToken.None) >= head);
    }

    [Fact]
    public async Task Given_a_tail_window_When_pages_are_served_from_it_Then_they_equal_the_store_s_own_pages_for_every_filter_and_start()
    {
        await using var h = await CreateAsync();
        await AppendAsync(h, streams: 2, perStream: 2, prefix: "before-");
        var tail = new AllTail(h.Store, new AllTailOptions { PageSize = 4, PollInterval = TimeSpan.FromMilliseconds(50) }, NullLogger.Instance);
        using var cts = new CancellationTokenSource();
        var tailRun = tail.RunAsync(cts.Token);
        await WaitUntilAsync(() => Task.FromResult(tail.ScannedUpTo > GlobalPosition.Start));
        var windowStart = tail.WindowStart;
        // Before the window: not served. (On a shared PostgreSQL cluster the head read at the tail's start can come up
        // short, even at Start, when another database's transaction holds this one's events back for a moment.)
        if (windowStart > GlobalPosition.Start) Assert.Null(tail.TryRead(GlobalPosition.Start, 10, null));

        await AppendAsync(h, streams: 3, perStream: 4);
        await h.Store.AppendToStreamAsync("other-1", ExpectedRevision.Any,
            [.. Enumerable.Range(0, 5).Select(i => new EventData(Guid.NewGuid(), $"x{i}", """{"n":1}""", EventMetadata.Empty))]);
        var head = (await h.Store.ReadStreamAsync("other-1", ReadDirection.Backward, long.MaxValue, 1))[0].Position;
        await WaitUntilAsync(() => Task.FromResult(tail.ScannedUpTo >= head));

        var all = (await h.Store.ReadAllForwardAsync(windowStart, 100)).Events;
        Assert.InRange(all.Count, 17, 21);
        AllFilter?[] filters = [null, AllFilter.ForCategories("order"), AllFilter.ForCategories("other"), AllFilter.ForCategories("none")];
        foreach (var filter in filters)
        {
            foreach (var after in all.Select(e => e.Position).Prepend(windowStart))
            {
                foreach (var max in new[] { 1, 3, 100 })
                {
                    var served = tail.TryRead(after, max, filter);
                    Assert.NotNull(served);
                    var read = await h.Store.ReadAllForwardAsync(after, max, filter);
                    Assert.Equal(read.Events.Select(e => e.EventId), served.Events.Select(e => e.EventId));
                    if (read.Events.Count == max) Assert.Equal(read.ScannedUpTo, served.ScannedUpTo);
                    else Assert.True(served.IsEnd && served.ScannedUpTo == tail.ScannedUpTo, $"after {after}, max {max}: a short page ends the window");
                }
            }
        }

        await cts.CancelAsync();
        await tailRun;
    }

    /// <summary>For each <c>order</c> event, appends one event to <c>echo-{event id}</c> (expected: no stream, so a
    /// redelivery finds its effect and does nothing); counts deliveries per event.</summary>
    private sealed class EchoProcessor(IEventStore store) : IEventProcessor
    {
        public System.Collections.Concurrent.ConcurrentDictionary<Guid, int> Handled { get; } = new();

        /// <summary>Fails once at the last event of the n-th page of two or more events, after handling the others. Counted by
        /// pages, not by a chosen event: on a shared PostgreSQL cluster, where page boundaries fall depends on what other
        /// databases' transactions hold back, and a chosen event could open a page (leaving nothing to hand again).</summary>
        public int? FailOnceOnPage { get; init; }

        public int Failures { get; private set; }

        private int _pages;

        public string Name => "echo";

        public AllFilter? Filter { get; } = AllFilter.ForCategories("order");

        public async Task HandleAsync(IReadOnlyList<RecordedEvent> events, CancellationToken cancellationToken)
        {
            var failAt = Failures == 0 && events.Count >= 2 && ++_pages == FailOnceOnPage ? events[^1].EventId : (Guid?)null;
            foreach (var e in events)
            {
                if (e.EventId == failAt)
                {
                    Failures++;
                    throw new InvalidOperationException("failing once, mid-page");
                }

                Handled.AddOrUpdate(e.EventId, 1, (_, n) => n + 1);
                try
                {
                    await store.AppendToStreamAsync($"echo-{e.EventId:N}", ExpectedRevision.NoStream,
                        [new EventData(Guid.NewGuid(), "echoed", """{"n":1}""", EventMetadata.Empty)], cancellationToken);
                }
                catch (WrongExpectedRevisionException)
                {
                    // handled before: the effect is already there
                }
            }
        }
    }

    protected async Task<StoreHarness> CreateAsync()
    {
        var h = await StoreHarness.CreateAsync(Kind);
        await LogProjection.CreateTablesAsync(h.Database);
        return h;
    }

    protected static async Task<List<Guid>> AppendAsync(StoreHarness h, int streams, int perStream, string prefix = "")
    {
        var ids = new List<Guid>();
        for (var r = 0; r < perStream; r++)
        {
            for (var s = 0; s < streams; s++)
            {
                var id = Guid.NewGuid();
                ids.Add(id);
                await h.Store.AppendToStreamAsync($"order-{prefix}{s}", ExpectedRevision.Any,
                    [new EventData(id, $"t{r}", """{"n":1}""", EventMetadata.Empty)]);
            }
        }

        return ids;
    }

    protected static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Condition not reached within " + Timeout);
            await Task.Delay(25);
        }
    }
}

public sealed class SqliteProjectionRuntimeTests : ProjectionRuntimeContract
{
    protected override StoreKind Kind => StoreKind.Sqlite;
}

public sealed class PostgresProjectionRuntimeTests : ProjectionRuntimeContract
{
    protected override StoreKind Kind => StoreKind.Postgres;

    [Fact]
    public async Task Given_a_leader_When_a_second_host_starts_the_same_projection_Then_it_waits_and_takes_over_when_the_leader_stops()
    {
        await using var h = await CreateAsync();
        var ids = await AppendAsync(h, streams: 2, perStream: 10);
        using var stopLeader = new CancellationTokenSource();
        using var stopFollower = new CancellationTokenSource();
        var leader = new ProjectionRunner(new LogProjection(), h.Store, h.Database, Fast, NullLogger.Instance);
        var leaderRun = leader.RunAsync(stopLeader.Token);
        await WaitUntilAsync(() => Task.FromResult(leader.State == ProjectionState.Live));

        var follower = new ProjectionRunner(new LogProjection(), await h.OpenPeerAsync(), h.OpenDatabase(), Fast, NullLogger.Instance);
        var followerRun = follower.RunAsync(stopFollower.Token);
        await WaitUntilAsync(() => Task.FromResult(follower.State == ProjectionState.WaitingForLeadership));
        ids.AddRange(await AppendAsync(h, streams: 1, perStream: 5, prefix: "x"));
        await WaitUntilAsync(async () => (await LogProjection.ApplicationsAsync(h.Database)).Count == ids.Count);
        Assert.Equal(ProjectionState.WaitingForLeadership, follower.State);

        await stopLeader.CancelAsync();
        await leaderRun;
        ids.AddRange(await AppendAsync(h, streams: 1, perStream: 5, prefix: "y"));
        await WaitUntilAsync(async () => follower.State == ProjectionState.Live
                                         && (await LogProjection.ApplicationsAsync(h.Database)).Count == ids.Count);
        await stopFollower.CancelAsync();
        await followerRun;
        Assert.All(await LogProjection.ApplicationsAsync(h.Database), x => Assert.Equal(1, x.Applications));
    }
}
