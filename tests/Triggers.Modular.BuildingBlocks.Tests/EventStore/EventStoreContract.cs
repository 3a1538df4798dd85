using System.Globalization;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Tests.Support;

namespace Triggers.Modular.BuildingBlocks.Tests.EventStore;

/// <summary>
/// The event-store contract (docs/DESIGN.md, "Event store"): every test here runs against every adapter through
/// the sealed subclasses in <c>EventStoreContractTests.cs</c>. Each test owns a fresh, migrated store.
/// This part: the expected-revision matrix.
/// </summary>
public abstract partial class EventStoreContract
{
    protected abstract StoreKind Kind { get; }

    private Task<StoreHarness> CreateAsync(EventStoreOptions? options = null) => StoreHarness.CreateAsync(Kind, options);

    /// <summary>"any", "no_stream", "stream_exists" or a revision number.</summary>
    private static ExpectedRevision Parse(string expected) => expected switch
    {
        "any" => ExpectedRevision.Any,
        "no_stream" => ExpectedRevision.NoStream,
        "stream_exists" => ExpectedRevision.StreamExists,
        _ => ExpectedRevision.Exactly(long.Parse(expected, CultureInfo.InvariantCulture)),
    };

    private static async Task<List<EventData>> SeedAsync(StoreHarness h, string stream, int count)
    {
        var batch = TestEvents.Batch(count, "seed_written").ToList();
        if (count > 0) await h.Store.AppendToStreamAsync(stream, ExpectedRevision.NoStream, batch);
        return batch;
    }

    [Theory]
    [InlineData("any")]
    [InlineData("no_stream")]
    public async Task Given_an_absent_stream_When_appending_with_a_satisfied_expectation_Then_the_batch_is_written_from_revision_0(string expected)
    {
        await using var h = await CreateAsync();
        var batch = TestEvents.Batch(3);

        var result = await h.Store.AppendToStreamAsync("order-1", Parse(expected), batch);

        Assert.Equal(2, result.NextExpectedRevision);
        Assert.False(result.WasIdempotentReplay);
        var stream = await StoreReads.ReadStreamAsync(h.Store, "order-1");
        Assert.Equal(batch.Select(e => e.EventId), stream.Select(e => e.EventId));
        Assert.Equal([0L, 1L, 2L], stream.Select(e => e.Revision));
        Assert.Equal(result.Position, stream[^1].Position);
        var all = await StoreReads.ReadAllSettledAsync(h.Store);
        Assert.Equal(batch.Select(e => e.EventId), all.Select(e => e.EventId));
    }

    [Theory]
    [InlineData("stream_exists")]
    [InlineData("0")]
    [InlineData("5")]
    public async Task Given_an_absent_stream_When_appending_with_an_unsatisfied_expectation_Then_WrongExpectedRevision_reports_minus_1_and_nothing_is_written(string expected)
    {
        await using var h = await CreateAsync();

        var ex = await Assert.ThrowsAsync<WrongExpectedRevisionException>(() =>
            h.Store.AppendToStreamAsync("order-1", Parse(expected), TestEvents.Batch(2)));

        Assert.Equal(-1, ex.ActualRevision);
        Assert.Equal(StreamRevision.None, ex.ActualRevision);
        Assert.Equal("order-1", ex.Stream);
        Assert.Equal(Parse(expected), ex.Expected);
        Assert.Empty(await StoreReads.ReadStreamAsync(h.Store, "order-1"));
        Assert.Empty(await StoreReads.ReadAllSettledAsync(h.Store));
        // The stream is still absent as far as the store's own bookkeeping goes.
        var created = await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.NoStream, [TestEvents.New()]);
        Assert.Equal(0, created.NextExpectedRevision);
    }

    [Theory]
    [InlineData("any")]
    [InlineData("stream_exists")]
    [InlineData("1")]
    public async Task Given_a_stream_at_revision_1_When_appending_with_a_satisfied_expectation_Then_the_batch_follows_at_revisions_2_to_4(string expected)
    {
        await using var h = await CreateAsync();
        var seed = await SeedAsync(h, "order-1", 2);
        var batch = TestEvents.Batch(3);

        var result = await h.Store.AppendToStreamAsync("order-1", Parse(expected), batch);

        Assert.Equal(4, result.NextExpectedRevision);
        Assert.False(result.WasIdempotentReplay);
        var stream = await StoreReads.ReadStreamAsync(h.Store, "order-1");
        Assert.Equal(seed.Concat(batch).Select(e => e.EventId), stream.Select(e => e.EventId));
        Assert.Equal([0L, 1L, 2L, 3L, 4L], stream.Select(e => e.Revision));
        Assert.Equal(result.Position, stream[^1].Position);
        var all = await StoreReads.ReadAllSettledAsync(h.Store);
        Assert.Equal(seed.Concat(batch).Select(e => e.EventId), all.Select(e => e.EventId));
    }

    [Theory]
    [InlineData("no_stream")]
    [InlineData("0")]
    [InlineData("2")]
    [InlineData("7")]
    public async Task Given_a_stream_at_revision_1_When_appending_with_an_unsatisfied_expectation_Then_WrongExpectedRevision_reports_1_and_nothing_is_written(string expected)
    {
        await using var h = await CreateAsync();
        var seed = await SeedAsync(h, "order-1", 2);
        var rejected = TestEvents.Batch(2);

        var ex = await Assert.ThrowsAsync<WrongExpectedRevisionException>(() =>
            h.Store.AppendToStreamAsync("order-1", Parse(expected), rejected));

        Assert.Equal(1, ex.ActualRevision);
        Assert.Equal("order-1", ex.Stream);
        Assert.Equal(Parse(expected), ex.Expected);
        Assert.Contains("actual revision 1", ex.Message, StringComparison.Ordinal);
        Assert.Equal(seed.Select(e => e.EventId), (await StoreReads.ReadStreamAsync(h.Store, "order-1")).Select(e => e.EventId));
        Assert.Equal(seed.Select(e => e.EventId), (await StoreReads.ReadAllSettledAsync(h.Store)).Select(e => e.EventId));
        // The stream's revision was not moved either: the correct expectation still succeeds.
        var next = await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.Exactly(1), [TestEvents.New()]);
        Assert.Equal(2, next.NextExpectedRevision);
    }

    [Fact]
    public async Task Given_a_pending_append_with_an_unsatisfied_expectation_When_it_is_begun_Then_it_throws_and_holds_nothing()
    {
        await using var h = await CreateAsync();
        await SeedAsync(h, "order-1", 1);

        var ex = await Assert.ThrowsAsync<WrongExpectedRevisionException>(() =>
            h.Transactions.BeginAppendAsync("order-1", ExpectedRevision.NoStream, [TestEvents.New()]));
        Assert.Equal(0, ex.ActualRevision);

        // Nothing is left locked: another append (here the single SQLite writer) goes through at once.
        var next = await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.Exactly(0), [TestEvents.New()])
            .WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, next.NextExpectedRevision);
        Assert.Equal(2, (await StoreReads.ReadAllSettledAsync(h.Store)).Count);
    }

    [Fact]
    public async Task Given_a_pending_append_When_it_is_committed_Then_the_commit_returns_its_result_and_the_events_are_stored()
    {
        await using var h = await CreateAsync();
        var batch = TestEvents.Batch(2);

        AppendResult committed;
        var pending = await h.Transactions.BeginAppendAsync("order-1", ExpectedRevision.NoStream, batch);
        try
        {
            committed = await pending.CommitAsync();
        }
        finally
        {
            await pending.DisposeAsync();
        }

        Assert.Equal(pending.Result, committed);
        Assert.Equal(1, committed.NextExpectedRevision);
        Assert.False(committed.WasIdempotentReplay);
        var stream = await StoreReads.ReadStreamAsync(h.Store, "order-1");
        Assert.Equal(batch.Select(e => e.EventId), stream.Select(e => e.EventId));
        Assert.Equal(committed.Position, stream[^1].Position);
    }
}
