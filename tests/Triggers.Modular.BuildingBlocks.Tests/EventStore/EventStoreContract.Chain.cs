using Dapper;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.BuildingBlocks.Tests.Support;

namespace Triggers.Modular.BuildingBlocks.Tests.EventStore;

/// <summary>
/// This part: the tamper-evidence hash chain (docs/adr/0016). Appends through the port build each stream's chain; the
/// verifier accepts it untouched, and names the first event after a row is edited, deleted or moved directly in the
/// database — the only way anyone could change history.
/// </summary>
public abstract partial class EventStoreContract
{
    private static ChainVerifier Verifier(StoreHarness h) => new((IEventChain)h.Store);

    private static string Events(StoreHarness h) => h.Kind == StoreKind.Postgres ? "event_store.events" : "es_events";

    private static string Streams(StoreHarness h) => h.Kind == StoreKind.Postgres ? "event_store.streams" : "es_streams";

    private static async Task<int> ExecuteAsync(StoreHarness h, string sql, object? args = null)
    {
        await using var connection = await h.Database.OpenConnectionAsync();
        return await connection.ExecuteAsync(sql, args);
    }

    /// <summary>Three streams written in interleaved appends of 1–3 events (single and group-committed), one of another tenant.</summary>
    private static async Task<Dictionary<string, List<RecordedEvent>>> ChainedStoreAsync(StoreHarness h)
    {
        var acme = new EventMetadata("acme", "dev", "user:1", "corr", null);
        for (var round = 0; round < 4; round++)
        {
            await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.Any, TestEvents.Batch(1 + round % 3, "order_changed", acme));
            await h.Store.AppendToStreamAsync("invoice-7", ExpectedRevision.Any, TestEvents.Batch(2, "invoice_changed", acme));
            await h.Store.AppendToStreamAsync("order-2", ExpectedRevision.Any, TestEvents.Batch(1, "order_changed", new EventMetadata("other", "prod")));
        }

        var all = await StoreReads.ReadAllSettledAsync(h.Store);
        return all.GroupBy(e => e.StreamName).ToDictionary(g => g.Key, g => g.OrderBy(e => e.Revision).ToList());
    }

    [Fact]
    public async Task Given_streams_appended_through_the_port_When_verified_Then_every_chain_holds_whole_and_by_scope()
    {
        await using var h = await CreateAsync();
        var streams = await ChainedStoreAsync(h);

        var report = await Verifier(h).VerifyAsync(null, null, null, null);
        Assert.True(report.Ok, report.FirstProblem?.ToString());
        await using (var connection = await h.Database.OpenConnectionAsync())
        {
            // Every row of the store (the harness's own among them), every stream.
            var rows = await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {Events(h)}");
            var streamCount = await connection.ExecuteScalarAsync<long>($"SELECT COUNT(DISTINCT stream_name) FROM {Events(h)}");
            Assert.Equal((rows, streamCount, 0L), (report.Checked, report.Streams, report.UnhashedLegacy));
            Assert.True(rows >= streams.Values.Sum(s => s.Count));
        }

        var acme = await Verifier(h).VerifyAsync("acme", "dev", null, null);
        Assert.True(acme.Ok, acme.FirstProblem?.ToString());
        Assert.Equal(streams["order-1"].Count + streams["invoice-7"].Count, acme.Checked);

        // A range that starts mid-stream seeds from the event before it.
        var middle = streams["order-1"][3].Position;
        var tail = await Verifier(h).VerifyAsync(null, null, middle, null);
        Assert.True(tail.Ok, tail.FirstProblem?.ToString());
        Assert.True(tail.Checked > 0 && tail.Checked < report.Checked);
    }

    [Theory]
    [InlineData("data")]
    [InlineData("actor")]
    [InlineData("type")]
    [InlineData("created_at")]
    [InlineData("hash")]
    public async Task Given_a_stored_event_edited_in_the_database_When_verified_Then_that_event_is_named_altered(string column)
    {
        await using var h = await CreateAsync();
        var streams = await ChainedStoreAsync(h);
        var target = streams["invoice-7"][4];
        var set = column switch
        {
            "data" => h.Kind == StoreKind.Postgres ? "data = '{\"amount\":1000000}'::json" : "data = '{\"amount\":1000000}'",
            "actor" => "actor = 'user:mallory'",
            "type" => "type = 'invoice_cancelled'",
            "created_at" => h.Kind == StoreKind.Postgres ? "created_at = created_at - interval '1 day'" : "created_at = '2020-01-01T00:00:00.0000000+00:00'",
            _ => h.Kind == StoreKind.Postgres ? "hash = sha256('x'::bytea)" : "hash = randomblob(32)",
        };
        Assert.Equal(1, await ExecuteAsync(h, $"UPDATE {Events(h)} SET {set} WHERE event_id = @id",
            new { id = h.Kind == StoreKind.Postgres ? (object)target.EventId : target.EventId.ToString() }));

        var report = await Verifier(h).VerifyAsync(null, null, null, null);

        Assert.False(report.Ok);
        Assert.Equal(("altered", "invoice-7", 4L, target.EventId.ToString()),
            (report.FirstProblem!.Kind, report.FirstProblem.Stream, report.FirstProblem.Revision, report.FirstProblem.EventId));
    }

    [Fact]
    public async Task Given_an_event_deleted_from_the_middle_of_a_stream_When_verified_Then_its_revision_is_named_missing()
    {
        await using var h = await CreateAsync();
        var streams = await ChainedStoreAsync(h);
        var gone = streams["order-1"][2];
        Assert.Equal(1, await ExecuteAsync(h, $"DELETE FROM {Events(h)} WHERE stream_name = 'order-1' AND revision = 2"));

        var report = await Verifier(h).VerifyAsync(null, null, null, null);

        Assert.False(report.Ok);
        Assert.Equal(("missing", "order-1", gone.Revision), (report.FirstProblem!.Kind, report.FirstProblem.Stream, report.FirstProblem.Revision));
    }

    [Fact]
    public async Task Given_the_last_event_of_a_stream_deleted_with_its_revision_rolled_back_When_verified_Then_the_stream_is_named_missing()
    {
        await using var h = await CreateAsync();
        var streams = await ChainedStoreAsync(h);
        var last = streams["invoice-7"][^1];
        Assert.Equal(1, await ExecuteAsync(h, $"DELETE FROM {Events(h)} WHERE stream_name = 'invoice-7' AND revision = {last.Revision}"));

        var deleted = await Verifier(h).VerifyAsync(null, null, null, null);
        Assert.Equal(("missing", "invoice-7", last.Revision), (deleted.FirstProblem?.Kind, deleted.FirstProblem?.Stream, deleted.FirstProblem?.Revision));

        // Covering the tracks by rolling the stream's revision back is caught by its recorded last hash.
        Assert.Equal(1, await ExecuteAsync(h, $"UPDATE {Streams(h)} SET revision = revision - 1 WHERE stream_name = 'invoice-7'"));
        var covered = await Verifier(h).VerifyAsync(null, null, null, null);
        Assert.Equal(("missing", "invoice-7"), (covered.FirstProblem?.Kind, covered.FirstProblem?.Stream));
    }

    [Fact]
    public async Task Given_two_events_of_a_stream_swapped_in_the_database_When_verified_Then_the_first_is_named_reordered()
    {
        await using var h = await CreateAsync();
        var streams = await ChainedStoreAsync(h);
        var (a, b) = (streams["order-1"][1], streams["order-1"][2]);
        // Three steps: (stream, revision) is unique.
        await ExecuteAsync(h, $"UPDATE {Events(h)} SET revision = -1 WHERE stream_name = 'order-1' AND revision = 1");
        await ExecuteAsync(h, $"UPDATE {Events(h)} SET revision = 1 WHERE stream_name = 'order-1' AND revision = 2");
        await ExecuteAsync(h, $"UPDATE {Events(h)} SET revision = 2 WHERE stream_name = 'order-1' AND revision = -1");

        var report = await Verifier(h).VerifyAsync(null, null, null, null);

        Assert.False(report.Ok);
        Assert.Equal(("reordered", "order-1", a.EventId.ToString()), (report.FirstProblem!.Kind, report.FirstProblem.Stream, report.FirstProblem.EventId));
        Assert.NotEqual(a.EventId, b.EventId);
    }

    [Fact]
    public async Task Given_events_recorded_before_the_chain_When_verified_Then_they_are_counted_unhashed_and_a_hash_removed_later_is_named()
    {
        await using var h = await CreateAsync();
        var streams = await ChainedStoreAsync(h);
        // As if the first two events of order-2 had been written before the chain existed.
        await ExecuteAsync(h, $"UPDATE {Events(h)} SET hash = NULL WHERE stream_name = 'order-2' AND revision < 2");
        // ...after which the chain starts again from zero bytes: re-link revision 2 onwards the way the store would have.
        var previous = EventHash.Genesis();
        foreach (var e in streams["order-2"].Skip(2))
        {
            previous = EventHash.Link(previous, EventHash.Digest(e.EventId, e.StreamName, e.Type, e.SchemaVersion, e.Data, e.Metadata, e.CreatedAt), e.Revision);
            await ExecuteAsync(h, $"UPDATE {Events(h)} SET hash = @previous WHERE stream_name = 'order-2' AND revision = {e.Revision}", new { previous });
        }

        await ExecuteAsync(h, $"UPDATE {Streams(h)} SET last_hash = @previous WHERE stream_name = 'order-2'", new { previous });
        // Unhashed events are history only up to where the chain began: as the migration would have recorded it then.
        var pastStart = await Verifier(h).VerifyAsync(null, null, null, null);
        Assert.Equal(("unhashed", "order-2", 0L), (pastStart.FirstProblem?.Kind, pastStart.FirstProblem?.Stream, pastStart.FirstProblem?.Revision));
        await SetChainStartAsync(h, streams["order-2"][1].Position);

        var legacy = await Verifier(h).VerifyAsync(null, null, null, null);
        Assert.True(legacy.Ok, legacy.FirstProblem?.ToString());
        Assert.Equal(2, legacy.UnhashedLegacy);

        // A hash removed after hashed events is not a legacy prefix.
        await ExecuteAsync(h, $"UPDATE {Events(h)} SET hash = NULL WHERE stream_name = 'order-2' AND revision = 3");
        var removed = await Verifier(h).VerifyAsync(null, null, null, null);
        Assert.Equal(("unhashed", "order-2", 3L), (removed.FirstProblem?.Kind, removed.FirstProblem?.Stream, removed.FirstProblem?.Revision));
    }

    [Fact]
    public async Task Given_every_hash_of_a_stream_removed_When_verified_Then_its_first_event_is_named_unhashed_and_an_edit_does_not_pass()
    {
        // Found in review: a stream whose hashes (and last hash) were all set to NULL looked like history recorded before the
        // chain, after which its events could be edited unnoticed. The chain's start is recorded: nothing after it is legacy.
        await using var h = await CreateAsync();
        var streams = await ChainedStoreAsync(h);
        await ExecuteAsync(h, $"UPDATE {Events(h)} SET hash = NULL WHERE stream_name = 'invoice-7'");
        await ExecuteAsync(h, $"UPDATE {Streams(h)} SET last_hash = NULL WHERE stream_name = 'invoice-7'");
        await ExecuteAsync(h, $"UPDATE {Events(h)} SET type = 'invoice_voided' WHERE stream_name = 'invoice-7' AND revision = 3");

        var report = await Verifier(h).VerifyAsync(null, null, null, null);

        Assert.False(report.Ok);
        Assert.Equal(("unhashed", "invoice-7", streams["invoice-7"][0].EventId.ToString()),
            (report.FirstProblem!.Kind, report.FirstProblem.Stream, report.FirstProblem.EventId));
        Assert.Equal(0, report.UnhashedLegacy);
    }

    private static Task<int> SetChainStartAsync(StoreHarness h, GlobalPosition position) => h.Kind == StoreKind.Postgres
        ? ExecuteAsync(h, "UPDATE event_store.chain_start SET tx_id = @c, seq = @p", new { c = position.Commit, p = position.Prepare })
        : ExecuteAsync(h, "UPDATE es_chain_start SET position = @c", new { c = position.Commit });

    [Fact]
    public async Task Given_the_last_event_of_a_stream_moved_to_another_environment_When_its_scope_is_verified_Then_it_is_named()
    {
        // Found in review: the scoped check took the moved event for one appended after the walk.
        await using var h = await CreateAsync();
        var streams = await ChainedStoreAsync(h);
        var last = streams["invoice-7"][^1];
        await ExecuteAsync(h, $"UPDATE {Events(h)} SET environment = 'elsewhere' WHERE stream_name = 'invoice-7' AND revision = {last.Revision}");

        var scoped = await Verifier(h).VerifyAsync("acme", "dev", null, null);
        Assert.Equal(("altered", "invoice-7", last.Revision), (scoped.FirstProblem?.Kind, scoped.FirstProblem?.Stream, scoped.FirstProblem?.Revision));
        Assert.False((await Verifier(h).VerifyAsync(null, null, null, null)).Ok);
    }

    [Fact]
    public async Task Given_an_events_category_edited_When_verified_Then_it_is_named_altered()
    {
        // Found in review: the category column (used by $all filters) is derived from the stream, not hashed; it is checked.
        await using var h = await CreateAsync();
        var streams = await ChainedStoreAsync(h);
        var target = streams["order-1"][1];
        await ExecuteAsync(h, $"UPDATE {Events(h)} SET category = 'hidden' WHERE stream_name = 'order-1' AND revision = 1");

        var report = await Verifier(h).VerifyAsync(null, null, null, null);
        Assert.Equal(("altered", target.EventId.ToString()), (report.FirstProblem?.Kind, report.FirstProblem?.EventId));
    }

    [Fact]
    public async Task Given_a_stream_with_events_of_several_environments_When_one_scope_is_verified_Then_the_others_events_are_checked_in_place_not_reported()
    {
        // Found in review: a tenant's stream holds events of each of its environments; a scoped walk meets gaps there.
        await using var h = await CreateAsync();
        foreach (var env in new[] { "dev", "prod", "dev", "prod", "prod", "dev" })
            await h.Store.AppendToStreamAsync("tenant-acme", ExpectedRevision.Any, TestEvents.Batch(1, "environment_added", new EventMetadata("acme", env)));
        // Verification walks what $all readers see: on a shared PostgreSQL cluster another database's open transaction can
        // hold the newest events back for a moment (a fresh-clone run verified 0 events here).
        await StoreReads.ReadAllSettledAsync(h.Store);

        foreach (var env in new[] { "dev", "prod" })
        {
            var report = await Verifier(h).VerifyAsync("acme", env, null, null);
            Assert.True(report.Ok, report.FirstProblem?.ToString());
            Assert.Equal(3, report.Checked);
        }

        // ...and tampering with another environment's event in between still shows.
        await ExecuteAsync(h, $"UPDATE {Events(h)} SET actor = 'mallory' WHERE stream_name = 'tenant-acme' AND revision = 3");
        Assert.Equal(("altered", 3L), ((await Verifier(h).VerifyAsync("acme", "dev", null, null)).FirstProblem?.Kind,
            (await Verifier(h).VerifyAsync("acme", "dev", null, null)).FirstProblem?.Revision));
    }
}
