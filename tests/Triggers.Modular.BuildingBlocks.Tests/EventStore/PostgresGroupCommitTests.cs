using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Tests.Support;

namespace Triggers.Modular.BuildingBlocks.Tests.EventStore;

/// <summary>
/// Group commit on PostgreSQL (docs/adr/0013): appends made at the same time share transactions, and each still gets the
/// outcome it would get alone. The contract tests cover the single-append behaviour; these make many appends race.
/// </summary>
public sealed class PostgresGroupCommitTests
{
    [Fact]
    public async Task Given_many_concurrent_appends_When_they_are_committed_together_Then_each_gets_its_own_outcome_and_all_order_holds()
    {
        var groups = new ConcurrentBag<int>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "triggers.event_store.group_commit_appends") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<int>((_, value, _, _) => groups.Add(value));
        listener.Start();

        await using var h = await StoreHarness.CreateAsync(StoreKind.Postgres);
        var duplicate = TestEvents.New();
        using var go = new ManualResetEventSlim(false);
        var own = Enumerable.Range(0, 120).Select(i => Run(() => h.Store.AppendToStreamAsync($"own-{i}", ExpectedRevision.NoStream,
            TestEvents.Batch(1 + (i % 3), "created")))).ToList();
        var shared = Enumerable.Range(0, 30).Select(_ => Run(() => h.Store.AppendToStreamAsync("shared-1", ExpectedRevision.Any,
            TestEvents.Batch(2, "shared_thing")))).ToList();
        var wrong = Enumerable.Range(0, 10).Select(i => Run(() => h.Store.AppendToStreamAsync($"wrong-{i}", ExpectedRevision.Exactly(5),
            [TestEvents.New()]))).ToList();
        var racing = Enumerable.Range(0, 6).Select(i => Run(() => h.Store.AppendToStreamAsync($"dup-{i}", ExpectedRevision.NoStream,
            [TestEvents.WithId(duplicate.EventId)]))).ToList();
        go.Set();

        var ownResults = await Task.WhenAll(own);
        var sharedResults = await Task.WhenAll(shared);
        foreach (var w in wrong) Assert.IsType<WrongExpectedRevisionException>(await Record.ExceptionAsync(() => w));
        var raced = await Task.WhenAll(racing.Select(r => Record.ExceptionAsync(() => r)));

        Assert.True(groups.Any(g => g >= 2), $"no two appends were committed together (groups: {string.Join(",", groups)}): the test did not exercise group commit");
        Assert.All(ownResults.Select((r, i) => (r, i)), x => Assert.Equal(x.i % 3, x.r.NextExpectedRevision));
        // The shared stream: 30 appends of 2, each at its own place, none lost, revisions 0..59.
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)(2 * i + 1)), sharedResults.Select(r => r.NextExpectedRevision).Order());
        Assert.Single(raced, e => e is null);
        Assert.All(raced.Where(e => e is not null), e => Assert.IsType<DuplicateEventIdException>(e));
        for (var i = 0; i < 10; i++) Assert.Empty(await StoreReads.ReadStreamAsync(h.Store, $"wrong-{i}"));

        // $all: every event once, each stream in revision order, each append's position its last event's.
        var all = await StoreReads.ReadAllSettledAsync(h.Store);
        Assert.Equal(120 * 2 + 60 + 1, all.Count);
        Assert.Equal(all.Count, all.Select(e => e.EventId).Distinct().Count());
        foreach (var stream in all.GroupBy(e => e.StreamName))
            Assert.Equal(Enumerable.Range(0, stream.Count()).Select(r => (long)r), stream.Select(e => e.Revision));
        var positions = all.ToDictionary(e => (e.StreamName, e.Revision), e => e.Position);
        for (var i = 0; i < ownResults.Length; i++)
            Assert.Equal(positions[($"own-{i}", ownResults[i].NextExpectedRevision)], ownResults[i].Position);

        Task<AppendResult> Run(Func<Task<AppendResult>> append) => Task.Run(() =>
        {
            go.Wait();
            return append();
        });
    }

    [Fact]
    public async Task Given_a_group_with_an_event_id_a_pending_transaction_holds_When_that_one_commits_Then_only_the_racer_is_refused()
    {
        // One committer, so the appends queued while it is busy form one group.
        await using var h = await StoreHarness.CreateAsync(StoreKind.Postgres, new EventStoreOptions { AppendCommitters = 1 });
        var taken = TestEvents.New();
        var lockHolder = await h.Transactions.BeginAppendAsync("lockme-1", ExpectedRevision.NoStream, [TestEvents.New()]);
        var idHolder = await h.Transactions.BeginAppendAsync("held-1", ExpectedRevision.NoStream, [taken]);
        Task<AppendResult>[] good;
        Task<AppendResult> racer;
        try
        {
            var first = BlockTheCommitter(h);
            await Task.Delay(300);
            good = [.. Enumerable.Range(0, 40).Select(i => h.Store.AppendToStreamAsync($"good-{i}", ExpectedRevision.NoStream, [TestEvents.New()]))];
            racer = h.Store.AppendToStreamAsync("racer-1", ExpectedRevision.NoStream, [TestEvents.WithId(taken.EventId)]);
            await lockHolder.CommitAsync();
            await first.WaitAsync(TimeSpan.FromSeconds(15));
            // The 41 queued appends are now one group; racer-1's insert waits for idHolder's uncommitted id.
            await Task.Delay(300);
            Assert.False(good.Any(g => g.IsCompleted), "the group committed while an id it writes was still held");
            await idHolder.CommitAsync();
        }
        finally
        {
            await lockHolder.DisposeAsync();
            await idHolder.DisposeAsync();
        }

        Assert.All(await Task.WhenAll(good).WaitAsync(TimeSpan.FromSeconds(15)), r => Assert.Equal(0, r.NextExpectedRevision));
        var ex = await Assert.ThrowsAsync<DuplicateEventIdException>(() => racer.WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.Equal("held-1", ex.ExistingStream);
        Assert.Empty(await StoreReads.ReadStreamAsync(h.Store, "racer-1"));
        for (var i = 0; i < 40; i++) Assert.Single(await StoreReads.ReadStreamAsync(h.Store, $"good-{i}"));
        Assert.Equal(2, (await StoreReads.ReadStreamAsync(h.Store, "lockme-1")).Count);

        // The committer takes this one alone and waits for the stream lock lockHolder keeps.
        Task<AppendResult> BlockTheCommitter(StoreHarness store) =>
            store.Store.AppendToStreamAsync("lockme-1", ExpectedRevision.Any, [TestEvents.New()]);
    }

    [Fact]
    public async Task Given_a_group_whose_transaction_fails_When_committed_Then_each_append_is_retried_alone_with_its_own_outcome()
    {
        var fallbacks = 0L;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "triggers.event_store.group_commit_fallbacks") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref fallbacks, value));
        listener.Start();

        await using var h = await StoreHarness.CreateAsync(StoreKind.Postgres, new EventStoreOptions { AppendCommitters = 1 });
        // A database-side failure the store cannot foresee: a trigger refusing one event type aborts whatever transaction
        // inserts it.
        await using (var c = await h.Database.OpenConnectionAsync())
        {
            await Dapper.SqlMapper.ExecuteAsync(c, """
                CREATE FUNCTION event_store.test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'refused by the test'; END; $$;
                CREATE TRIGGER test_refuse BEFORE INSERT ON event_store.events
                FOR EACH ROW WHEN (NEW.type = 'explodes') EXECUTE FUNCTION event_store.test_refuse();
                """);
        }

        var lockHolder = await h.Transactions.BeginAppendAsync("lockme-1", ExpectedRevision.NoStream, [TestEvents.New()]);
        Task<AppendResult>[] good;
        Task<AppendResult> bad;
        try
        {
            var first = h.Store.AppendToStreamAsync("lockme-1", ExpectedRevision.Any, [TestEvents.New()]);
            await Task.Delay(300);
            good = [.. Enumerable.Range(0, 20).Select(i => h.Store.AppendToStreamAsync($"good-{i}", ExpectedRevision.NoStream, [TestEvents.New()]))];
            bad = h.Store.AppendToStreamAsync("bad-1", ExpectedRevision.NoStream, [TestEvents.New("explodes")]);
            good = [.. good, .. Enumerable.Range(20, 20).Select(i => h.Store.AppendToStreamAsync($"good-{i}", ExpectedRevision.NoStream, [TestEvents.New()]))];
            await lockHolder.CommitAsync();
            await first.WaitAsync(TimeSpan.FromSeconds(15));
        }
        finally
        {
            await lockHolder.DisposeAsync();
        }

        Assert.All(await Task.WhenAll(good).WaitAsync(TimeSpan.FromSeconds(15)), r => Assert.Equal(0, r.NextExpectedRevision));
        var ex = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => bad.WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.Contains("refused by the test", ex.MessageText, StringComparison.Ordinal);
        Assert.True(Interlocked.Read(ref fallbacks) >= 1, "the group's transaction did not fail: the test did not exercise the retry");
        Assert.Empty(await StoreReads.ReadStreamAsync(h.Store, "bad-1"));
        for (var i = 0; i < 40; i++) Assert.Single(await StoreReads.ReadStreamAsync(h.Store, $"good-{i}"));
    }
}
