using Npgsql;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Tests.Support;

namespace Triggers.Modular.BuildingBlocks.Tests.EventStore;

/// <summary>The idempotence matrix: retries by event id, as in EventStoreDB.</summary>
public abstract partial class EventStoreContract
{
    [Theory]
    [InlineData("no_stream", "no_stream")]
    [InlineData("no_stream", "any")]
    [InlineData("exact", "exact")]
    [InlineData("exact", "any")]
    [InlineData("stream_exists", "stream_exists")]
    [InlineData("any", "any")]
    public async Task Given_a_stored_append_When_it_is_retried_with_the_same_event_ids_Then_the_original_result_is_returned_and_nothing_is_duplicated(
        string originalExpectation, string retryExpectation)
    {
        await using var h = await CreateAsync();
        var seed = originalExpectation == "no_stream" ? [] : await SeedAsync(h, "order-1", 1);
        ExpectedRevision Expectation(string name) => name == "exact" ? ExpectedRevision.Exactly(seed.Count - 1) : Parse(name);
        var batch = TestEvents.Batch(3);
        var original = await h.Store.AppendToStreamAsync("order-1", Expectation(originalExpectation), batch);

        var retried = await h.Store.AppendToStreamAsync("order-1", Expectation(retryExpectation), batch);
        var retriedAgain = await h.Store.AppendToStreamAsync("order-1", Expectation(retryExpectation), batch);

        Assert.False(original.WasIdempotentReplay);
        Assert.Equal(original with { WasIdempotentReplay = true }, retried);
        Assert.Equal(original with { WasIdempotentReplay = true }, retriedAgain);
        var expectedIds = seed.Concat(batch).Select(e => e.EventId).ToList();
        Assert.Equal(expectedIds, (await StoreReads.ReadStreamAsync(h.Store, "order-1")).Select(e => e.EventId));
        Assert.Equal(expectedIds, (await StoreReads.ReadAllSettledAsync(h.Store)).Select(e => e.EventId));
    }

    [Fact]
    public async Task Given_a_stream_that_moved_on_When_an_earlier_append_is_retried_Then_it_is_a_replay_where_its_expectation_held_and_a_conflict_where_it_did_not()
    {
        await using var h = await CreateAsync();
        var first = TestEvents.Batch(2);
        var original = await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.NoStream, first);
        await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.Exactly(1), [TestEvents.New()]);

        Assert.Equal(original with { WasIdempotentReplay = true },
            await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.NoStream, first));
        Assert.Equal(original with { WasIdempotentReplay = true },
            await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.Any, first));
        // The same ids with an expectation that puts them elsewhere (after revision 2) are a concurrency error.
        var ex = await Assert.ThrowsAsync<WrongExpectedRevisionException>(() =>
            h.Store.AppendToStreamAsync("order-1", ExpectedRevision.Exactly(2), first));
        Assert.Equal(2, ex.ActualRevision);

        Assert.Equal(3, (await StoreReads.ReadStreamAsync(h.Store, "order-1")).Count);
        Assert.Equal(3, (await StoreReads.ReadAllSettledAsync(h.Store)).Count);
    }

    [Theory]
    [InlineData("last_stored_then_new")]
    [InlineData("first_stored_then_new")]
    [InlineData("new_then_stored")]
    [InlineData("all_stored_plus_new")]
    [InlineData("all_stored_reordered")]
    public async Task Given_a_stored_append_When_a_retry_only_partly_overlaps_it_Then_WrongExpectedRevision_and_nothing_is_written(string overlap)
    {
        await using var h = await CreateAsync();
        var stored = TestEvents.Batch(2);
        await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.NoStream, stored);
        var fresh = TestEvents.New("fresh_thing");
        EventData[] retry = overlap switch
        {
            "last_stored_then_new" => [stored[1], fresh],
            "first_stored_then_new" => [stored[0], fresh],
            "new_then_stored" => [fresh, stored[0]],
            "all_stored_plus_new" => [stored[0], stored[1], fresh],
            "all_stored_reordered" => [stored[1], stored[0]],
            _ => throw new ArgumentOutOfRangeException(nameof(overlap)),
        };

        var ex = await Assert.ThrowsAsync<WrongExpectedRevisionException>(() =>
            h.Store.AppendToStreamAsync("order-1", ExpectedRevision.Any, retry));

        Assert.Equal(1, ex.ActualRevision);
        Assert.Equal(stored.Select(e => e.EventId), (await StoreReads.ReadStreamAsync(h.Store, "order-1")).Select(e => e.EventId));
        var all = await StoreReads.ReadAllSettledAsync(h.Store);
        Assert.Equal(stored.Select(e => e.EventId), all.Select(e => e.EventId));
        Assert.DoesNotContain(all, e => e.EventId == fresh.EventId);
    }

    [Theory]
    [InlineData("no_stream", false)]
    [InlineData("any", false)]
    [InlineData("any", true)]
    public async Task Given_an_event_id_stored_in_one_stream_When_another_stream_appends_it_Then_DuplicateEventId_and_nothing_is_written(
        string expected, bool withANewEventFirst)
    {
        await using var h = await CreateAsync();
        var taken = TestEvents.New();
        await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.NoStream, [taken]);
        var fresh = TestEvents.New("fresh_thing");
        EventData[] batch = withANewEventFirst ? [fresh, TestEvents.WithId(taken.EventId)] : [TestEvents.WithId(taken.EventId)];

        var ex = await Assert.ThrowsAsync<DuplicateEventIdException>(() =>
            h.Store.AppendToStreamAsync("order-2", Parse(expected), batch));

        Assert.Equal(taken.EventId, ex.EventId);
        Assert.Equal("order-2", ex.Stream);
        Assert.Equal("order-1", ex.ExistingStream);
        Assert.Empty(await StoreReads.ReadStreamAsync(h.Store, "order-2"));
        Assert.Equal([taken.EventId], (await StoreReads.ReadAllSettledAsync(h.Store)).Select(e => e.EventId));
        var created = await h.Store.AppendToStreamAsync("order-2", ExpectedRevision.NoStream, [fresh]);
        Assert.Equal(0, created.NextExpectedRevision);
    }

    [Fact]
    public async Task Given_a_pending_append_holding_an_event_id_When_another_stream_appends_the_same_id_and_the_first_commits_Then_DuplicateEventId_and_nothing_is_written()
    {
        await using var h = await CreateAsync();
        var taken = TestEvents.New();
        var pending = await h.Transactions.BeginAppendAsync("order-1", ExpectedRevision.NoStream, [taken]);
        Task<AppendResult> racing;
        try
        {
            racing = Task.Run(() => h.Store.AppendToStreamAsync("order-2", ExpectedRevision.NoStream, [TestEvents.WithId(taken.EventId)]));
            await WaitUntilBlockedAsync(h, racing);
            await pending.CommitAsync();
        }
        finally
        {
            await pending.DisposeAsync();
        }

        var ex = await Assert.ThrowsAsync<DuplicateEventIdException>(() => racing.WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.Equal(taken.EventId, ex.EventId);
        Assert.Equal("order-1", ex.ExistingStream);
        Assert.Empty(await StoreReads.ReadStreamAsync(h.Store, "order-2"));
        Assert.Equal([taken.EventId], (await StoreReads.ReadAllSettledAsync(h.Store)).Select(e => e.EventId));
    }

    [Fact]
    public async Task Given_a_pending_append_holding_an_event_id_When_another_stream_appends_the_same_id_and_the_first_rolls_back_Then_the_second_succeeds()
    {
        await using var h = await CreateAsync();
        var contested = TestEvents.New();
        var pending = await h.Transactions.BeginAppendAsync("order-1", ExpectedRevision.NoStream, [contested]);
        Task<AppendResult> racing;
        try
        {
            racing = Task.Run(() => h.Store.AppendToStreamAsync("order-2", ExpectedRevision.NoStream, [TestEvents.WithId(contested.EventId)]));
            await WaitUntilBlockedAsync(h, racing);
        }
        finally
        {
            await pending.DisposeAsync(); // rolled back
        }

        var second = await racing.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(0, second.NextExpectedRevision);
        Assert.Empty(await StoreReads.ReadStreamAsync(h.Store, "order-1"));
        var stored = Assert.Single(await StoreReads.ReadAllSettledAsync(h.Store));
        Assert.Equal((contested.EventId, "order-2"), (stored.EventId, stored.StreamName));
    }

    [Fact]
    public async Task Given_a_pending_append_When_an_identical_append_races_it_and_the_first_commits_Then_the_second_is_a_replay_of_the_first()
    {
        await using var h = await CreateAsync();
        var batch = TestEvents.Batch(2);
        var pending = await h.Transactions.BeginAppendAsync("order-1", ExpectedRevision.NoStream, batch);
        Task<AppendResult> racing;
        AppendResult first;
        try
        {
            racing = Task.Run(() => h.Store.AppendToStreamAsync("order-1", ExpectedRevision.NoStream, batch));
            await WaitUntilBlockedAsync(h, racing);
            first = await pending.CommitAsync();
        }
        finally
        {
            await pending.DisposeAsync();
        }

        var second = await racing.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.False(first.WasIdempotentReplay);
        Assert.Equal(first with { WasIdempotentReplay = true }, second);
        Assert.Equal(batch.Select(e => e.EventId), (await StoreReads.ReadAllSettledAsync(h.Store)).Select(e => e.EventId));
    }

    [Fact]
    public async Task Given_a_stored_append_When_it_is_retried_through_a_pending_append_Then_the_pending_result_is_the_replay_and_committing_writes_nothing()
    {
        await using var h = await CreateAsync();
        var batch = TestEvents.Batch(2);
        var original = await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.NoStream, batch);

        var pending = await h.Transactions.BeginAppendAsync("order-1", ExpectedRevision.NoStream, batch);
        AppendResult committed;
        try
        {
            Assert.Equal(original with { WasIdempotentReplay = true }, pending.Result);
            committed = await pending.CommitAsync();
        }
        finally
        {
            await pending.DisposeAsync();
        }

        Assert.Equal(original with { WasIdempotentReplay = true }, committed);
        Assert.Equal(batch.Select(e => e.EventId), (await StoreReads.ReadAllSettledAsync(h.Store)).Select(e => e.EventId));
    }

    /// <summary>
    /// Lets a racing append reach the point where it waits for the pending one. PostgreSQL: until the server shows a
    /// backend of this database waiting on a lock. SQLite: writers queue on the in-process writer gate, so the outcome
    /// does not depend on timing; only check that the racer has not finished.
    /// </summary>
    private static async Task WaitUntilBlockedAsync(StoreHarness h, Task racing)
    {
        if (h.Kind == StoreKind.Postgres)
        {
            await using var connection = new NpgsqlConnection(h.PostgresConnectionString);
            await connection.OpenAsync();
            await Eventually.WaitUntilAsync(async () =>
            {
                if (racing.IsCompleted) return true;
                await using var cmd = new NpgsqlCommand(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", connection);
                return (long)(await cmd.ExecuteScalarAsync())! > 0;
            }, "the racing append waits on a lock");
        }

        Assert.False(racing.IsCompleted, $"the racing append finished while the pending one was open: {racing.Status} {racing.Exception}");
    }
}
