using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.EventStore.Subscriptions;

namespace Triggers.Modular.BuildingBlocks.Tests.EventStore;

/// <summary>Reading streams and $all: directions, paging, filters, the envelope.</summary>
public abstract partial class EventStoreContract
{
    [Fact]
    public async Task Given_a_stream_of_10_events_When_read_forward_and_backward_Then_each_read_returns_the_requested_revisions_in_order()
    {
        await using var h = await CreateAsync();
        var batch = TestEvents.Batch(10);
        for (var i = 0; i < 10; i++)
        {
            await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.Any, [batch[i]]);
            await h.Store.AppendToStreamAsync("noise-1", ExpectedRevision.Any, [TestEvents.New()]);
        }

        async Task<long[]> Revisions(ReadDirection direction, long from, int max) =>
            (await h.Store.ReadStreamAsync("order-1", direction, from, max)).Select(e => e.Revision).ToArray();

        Assert.Equal(new long[] { 0L, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, await Revisions(ReadDirection.Forward, 0, 100));
        Assert.Equal(new long[] { 3L, 4, 5, 6 }, await Revisions(ReadDirection.Forward, 3, 4));
        Assert.Equal(new long[] { 8L, 9 }, await Revisions(ReadDirection.Forward, 8, 4));
        Assert.Empty(await Revisions(ReadDirection.Forward, 10, 4));
        Assert.Equal(new long[] { 9L, 8, 7 }, await Revisions(ReadDirection.Backward, long.MaxValue, 3));
        Assert.Equal(new long[] { 9L, 8, 7, 6, 5, 4, 3, 2, 1, 0 }, await Revisions(ReadDirection.Backward, long.MaxValue, 100));
        Assert.Equal(new long[] { 5L, 4 }, await Revisions(ReadDirection.Backward, 5, 2));
        Assert.Equal(new long[] { 1L, 0 }, await Revisions(ReadDirection.Backward, 1, 10));
        Assert.Equal(new long[] { 0L }, await Revisions(ReadDirection.Backward, 0, 10));
        Assert.Equal(batch.Select(e => e.EventId),
            (await h.Store.ReadStreamAsync("order-1", ReadDirection.Forward, 0, 100)).Select(e => e.EventId));
        Assert.All(await h.Store.ReadStreamAsync("order-1", ReadDirection.Forward, 0, 100), e => Assert.Equal("order-1", e.StreamName));
    }

    [Fact]
    public async Task Given_an_absent_stream_When_it_is_read_in_either_direction_Then_it_reads_empty()
    {
        await using var h = await CreateAsync();
        await SeedAsync(h, "order-1", 2);

        Assert.Empty(await h.Store.ReadStreamAsync("order-2", ReadDirection.Forward, 0, 100));
        Assert.Empty(await h.Store.ReadStreamAsync("order-2", ReadDirection.Backward, long.MaxValue, 100));
        Assert.Empty(await h.Store.ReadStreamAsync("order-10", ReadDirection.Forward, 0, 100));
    }

    [Fact]
    public async Task Given_an_empty_store_When_all_is_read_Then_the_slice_is_empty_at_the_start_and_the_head_is_the_start()
    {
        await using var h = await CreateAsync();

        var slice = await h.Store.ReadAllForwardAsync(GlobalPosition.Start, 10);

        Assert.Empty(slice.Events);
        Assert.True(slice.IsEnd);
        Assert.Equal(GlobalPosition.Start, slice.ScannedUpTo);
        Assert.Equal(GlobalPosition.Start, await h.Store.ReadHeadPositionAsync());
        Assert.Equal(0, await h.Store.CountAllAfterAsync(GlobalPosition.Start));
    }

    [Fact]
    public async Task Given_events_in_several_streams_When_all_is_paged_with_small_pages_Then_every_event_is_walked_exactly_once_in_position_order()
    {
        await using var h = await CreateAsync();
        var appended = new List<Guid>();
        AppendResult last = null!;
        for (var i = 0; i < 20; i++)
        {
            var batch = TestEvents.Batch(1 + (i % 3));
            last = await h.Store.AppendToStreamAsync($"order-{i % 4}", ExpectedRevision.Any, batch);
            appended.AddRange(batch.Select(e => e.EventId));
        }

        await StoreReads.WaitUntilVisibleAsync(h.Store, last.Position);
        Assert.Equal(last.Position, await h.Store.ReadHeadPositionAsync());
        Assert.Equal(appended.Count, await h.Store.CountAllAfterAsync(GlobalPosition.Start));
        foreach (var pageSize in new[] { 1, 3, 7, appended.Count, 1000 })
        {
            var walked = await StoreReads.ReadAllPagedAsync(h.Store, GlobalPosition.Start, pageSize);
            Assert.Equal(appended, walked.Select(e => e.EventId));
            AssertStrictlyIncreasing(walked.Select(e => e.Position));
        }

        // Reading after a position is exclusive, and the count after it agrees.
        var full = await StoreReads.ReadAllPagedAsync(h.Store, GlobalPosition.Start, 1000);
        var from = full[9].Position;
        Assert.Equal(full.Skip(10).Select(e => e.EventId), (await StoreReads.ReadAllPagedAsync(h.Store, from, 4)).Select(e => e.EventId));
        Assert.Equal(full.Count - 10, await h.Store.CountAllAfterAsync(from));
        var atHead = await h.Store.ReadAllForwardAsync(last.Position, 10);
        Assert.Empty(atHead.Events);
        Assert.True(atHead.IsEnd);
        Assert.Equal(last.Position, atHead.ScannedUpTo);
    }

    [Fact]
    public async Task Given_an_event_with_a_full_envelope_When_it_is_read_back_everywhere_Then_every_field_round_trips()
    {
        await using var h = await CreateAsync();
        var metadata = new EventMetadata("tenant-a", "prod", "user:42", "corr-7f", "cause-9c");
        const string Data = """{ "name": "Zoë 🚀", "n": 12.50, "nested": {"list": [1, null, true]}, "quote": "a\"b" }""";
        var full = new EventData(Guid.NewGuid(), "order_placed.v3", Data, metadata, SchemaVersion: 3);
        var bare = new EventData(Guid.NewGuid(), "order_noted", "[]", EventMetadata.Empty);
        var before = DateTimeOffset.UtcNow;
        await SeedAsync(h, "order-7", 2);
        var result = await h.Store.AppendToStreamAsync("order-7", ExpectedRevision.Exactly(1), [full, bare]);
        var after = DateTimeOffset.UtcNow;
        await StoreReads.WaitUntilVisibleAsync(h.Store, result.Position);

        var fromStream = await h.Store.ReadStreamAsync("order-7", ReadDirection.Forward, 2, 10);
        var fromAll = (await StoreReads.ReadAllPagedAsync(h.Store, GlobalPosition.Start, 100)).Skip(2).ToList();
        await using var probe = SubscriptionProbe.Start(h.Store, FromAll.Start);
        await probe.WaitForEventsAsync(4);
        var fromSubscription = probe.Events.Skip(2).ToList();

        foreach (var read in new[] { fromStream, fromAll, fromSubscription })
        {
            Assert.Equal(2, read.Count);
            var (first, second) = (read[0], read[1]);
            Assert.Equal(full.EventId, first.EventId);
            Assert.Equal("order-7", first.StreamName);
            Assert.Equal("order", first.Category);
            Assert.Equal(2, first.Revision);
            Assert.Equal("order_placed.v3", first.Type);
            Assert.Equal(3, first.SchemaVersion);
            Assert.Equal(Data, first.Data);
            Assert.Equal(metadata, first.Metadata);
            Assert.InRange(first.CreatedAt, before.AddSeconds(-2), after.AddSeconds(2));
            Assert.Equal(TimeSpan.Zero, first.CreatedAt.Offset);

            Assert.Equal(bare.EventId, second.EventId);
            Assert.Equal(3, second.Revision);
            Assert.Equal(1, second.SchemaVersion);
            Assert.Equal("[]", second.Data);
            Assert.Equal(EventMetadata.Empty, second.Metadata);
            Assert.Equal(result.Position, second.Position);
            Assert.True(first.Position < second.Position);
            Assert.True(GlobalPosition.TryParse(second.Position.ToString(), out var parsed));
            Assert.Equal(second.Position, parsed);
        }

        Assert.Equal(fromStream, fromAll);
        Assert.Equal(fromStream, fromSubscription);
    }

    [Fact]
    public async Task Given_a_filter_that_matches_nothing_When_all_is_read_Then_the_slice_is_empty_but_scanned_up_to_the_head()
    {
        await using var h = await CreateAsync();
        AppendResult last = null!;
        for (var i = 0; i < 10; i++)
            last = await h.Store.AppendToStreamAsync($"order-{i % 3}", ExpectedRevision.Any, TestEvents.Batch(2, "order_placed"));
        await StoreReads.WaitUntilVisibleAsync(h.Store, last.Position);
        var head = await h.Store.ReadHeadPositionAsync();
        Assert.Equal(last.Position, head);

        foreach (var filter in new[]
                 {
                     AllFilter.ForCategories("invoice"), AllFilter.ForEventTypePrefixes("invoice_"), AllFilter.ForTenant("nobody"),
                     new AllFilter(Environment: "nowhere"),
                 })
        {
            foreach (var pageSize in new[] { 1, 5, 100 })
            {
                var slice = await h.Store.ReadAllForwardAsync(GlobalPosition.Start, pageSize, filter);
                Assert.Empty(slice.Events);
                Assert.Equal(head, slice.ScannedUpTo);
                Assert.True(slice.IsEnd);
            }

            Assert.Equal(0, await h.Store.CountAllAfterAsync(GlobalPosition.Start, filter));
        }
    }

    [Fact]
    public async Task Given_a_subscription_whose_filter_matches_nothing_When_events_are_appended_Then_its_checkpoint_still_reaches_the_head()
    {
        await using var h = await CreateAsync();
        var first = await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.Any, TestEvents.Batch(5, "order_placed"));
        await StoreReads.WaitUntilVisibleAsync(h.Store, first.Position);

        await using var probe = SubscriptionProbe.Start(h.Store, FromAll.Start, AllFilter.ForCategories("invoice"));
        await probe.WaitUntilAsync(m => m.OfType<SubscriptionMessage.CheckpointReached>().Any(c => c.Position == first.Position),
            $"a checkpoint at the head {first.Position}");
        await probe.WaitForCaughtUpAsync();
        Assert.Equal(first.Position, probe.Messages.OfType<SubscriptionMessage.CaughtUp>().First().Position);

        // Live: more non-matching events move the checkpoint on.
        var second = await h.Store.AppendToStreamAsync("order-2", ExpectedRevision.Any, TestEvents.Batch(3, "order_placed"));
        await probe.WaitUntilAsync(m => m.OfType<SubscriptionMessage.CheckpointReached>().Any(c => c.Position == second.Position),
            $"a live checkpoint at the new head {second.Position}");
        Assert.Empty(probe.Events);
        AssertStrictlyIncreasing(probe.Messages.OfType<SubscriptionMessage.CheckpointReached>().Select(c => c.Position));
    }

    [Fact]
    public async Task Given_interleaved_events_of_two_tenants_When_filtered_by_tenant_Then_only_that_tenants_events_are_returned_by_reads_and_subscriptions()
    {
        await using var h = await CreateAsync();
        var expectedA = new List<Guid>();
        var expectedAProd = new List<Guid>();
        AppendResult last = null!;
        for (var i = 0; i < 12; i++)
        {
            var tenant = i % 3 == 1 ? "B" : "A";
            var environment = i % 2 == 0 ? "prod" : "dev";
            var e = TestEvents.New(metadata: new EventMetadata(tenant, environment, "actor-1"));
            last = await h.Store.AppendToStreamAsync($"order-{i % 4}", ExpectedRevision.Any, [e]);
            if (tenant == "A") expectedA.Add(e.EventId);
            if (tenant == "A" && environment == "prod") expectedAProd.Add(e.EventId);
            // Events without a tenant, and a tenant whose id only differs in case, never match tenant A.
            last = await h.Store.AppendToStreamAsync("system-1", ExpectedRevision.Any,
                [TestEvents.New(metadata: i % 2 == 0 ? EventMetadata.Empty : new EventMetadata("a", "prod"))]);
        }

        await StoreReads.WaitUntilVisibleAsync(h.Store, last.Position);

        foreach (var pageSize in new[] { 1, 4, 100 })
        {
            var readA = await StoreReads.ReadAllPagedAsync(h.Store, GlobalPosition.Start, pageSize, AllFilter.ForTenant("A"));
            Assert.Equal(expectedA, readA.Select(e => e.EventId));
            Assert.All(readA, e => Assert.Equal("A", e.Metadata.TenantId));
        }

        Assert.Equal(expectedAProd,
            (await StoreReads.ReadAllPagedAsync(h.Store, GlobalPosition.Start, 3, AllFilter.ForTenant("A", "prod"))).Select(e => e.EventId));
        Assert.Equal(expectedA.Count, await h.Store.CountAllAfterAsync(GlobalPosition.Start, AllFilter.ForTenant("A")));

        await using var probe = SubscriptionProbe.Start(h.Store, FromAll.Start, AllFilter.ForTenant("A"),
            new SubscriptionSettings(BatchSize: 3, PollInterval: TimeSpan.FromMilliseconds(50)));
        await probe.WaitForCaughtUpAsync();
        var liveB = await h.Store.AppendToStreamAsync("order-9", ExpectedRevision.Any, [TestEvents.New(metadata: new EventMetadata("B"))]);
        var liveA = TestEvents.New(metadata: new EventMetadata("A"));
        await h.Store.AppendToStreamAsync("order-9", ExpectedRevision.Any, [liveA]);
        var liveB2 = await h.Store.AppendToStreamAsync("order-9", ExpectedRevision.Any, [TestEvents.New(metadata: new EventMetadata("B"))]);
        await probe.WaitUntilAsync(m => m.OfType<SubscriptionMessage.CheckpointReached>().Any(c => c.Position >= liveB2.Position),
            "the subscription scanned past the last live event");
        Assert.Equal(expectedA.Append(liveA.EventId), probe.Events.Select(e => e.EventId));
        Assert.True(liveB.Position < liveB2.Position);
    }

    [Fact]
    public async Task Given_events_of_several_categories_and_types_When_filtered_by_category_or_type_prefix_Then_only_exact_category_and_literal_prefix_matches_return()
    {
        await using var h = await CreateAsync();
        var appended = new List<(string Stream, string Type, Guid Id)>();
        AppendResult last = null!;
        (string Stream, string Type)[] shapes =
        [
            ("order-1", "order_placed"), ("order_item-1", "order_item_added"), ("orders-1", "orderXplaced"),
            ("invoice-1", "invoice_sent"), ("order-2", "order_shipped"), ("order-1", "Order_legacy"),
            ("stats-1", "100%_done"), ("stats-1", "100_percent"), ("invoice-2", "invoice_paid"), ("order-2", "orderplaced"),
        ];
        for (var round = 0; round < 2; round++)
        {
            foreach (var (stream, type) in shapes)
            {
                var e = TestEvents.New(type);
                last = await h.Store.AppendToStreamAsync(stream, ExpectedRevision.Any, [e]);
                appended.Add((stream, type, e.EventId));
            }
        }

        await StoreReads.WaitUntilVisibleAsync(h.Store, last.Position);

        async Task AssertFilter(AllFilter filter, Func<(string Stream, string Type, Guid Id), bool> expected)
        {
            var want = appended.Where(expected).Select(a => a.Id).ToList();
            Assert.NotEmpty(want);
            foreach (var pageSize in new[] { 1, 3, 100 })
                Assert.Equal(want, (await StoreReads.ReadAllPagedAsync(h.Store, GlobalPosition.Start, pageSize, filter)).Select(e => e.EventId));
            Assert.Equal(want.Count, await h.Store.CountAllAfterAsync(GlobalPosition.Start, filter));
        }

        await AssertFilter(AllFilter.ForCategories("order"), a => a.Stream.StartsWith("order-", StringComparison.Ordinal));
        await AssertFilter(AllFilter.ForCategories("order", "invoice"),
            a => a.Stream.StartsWith("order-", StringComparison.Ordinal) || a.Stream.StartsWith("invoice-", StringComparison.Ordinal));
        await AssertFilter(AllFilter.ForCategories("order_item"), a => a.Stream.StartsWith("order_item-", StringComparison.Ordinal));
        // '_' and '%' are literal characters in a prefix, not wildcards; matching is case-sensitive.
        await AssertFilter(AllFilter.ForEventTypePrefixes("order_"), a => a.Type.StartsWith("order_", StringComparison.Ordinal));
        await AssertFilter(AllFilter.ForEventTypePrefixes("100%"), a => a.Type == "100%_done");
        await AssertFilter(AllFilter.ForEventTypePrefixes("Order_"), a => a.Type == "Order_legacy");
        await AssertFilter(AllFilter.ForEventTypePrefixes("order_", "invoice_p"),
            a => a.Type.StartsWith("order_", StringComparison.Ordinal) || a.Type == "invoice_paid");
        // Across lists, every condition must hold.
        await AssertFilter(new AllFilter(Categories: ["order"], EventTypePrefixes: ["order_s"]), a => a.Type == "order_shipped");
    }

    [Fact]
    public async Task Given_events_of_several_environments_When_filtered_by_environment_Then_only_that_environment_is_returned()
    {
        await using var h = await CreateAsync();
        var prod = new List<Guid>();
        AppendResult last = null!;
        for (var i = 0; i < 9; i++)
        {
            var environment = (i % 3) switch { 0 => "prod", 1 => "staging", _ => null };
            var e = TestEvents.New(metadata: new EventMetadata("A", environment));
            last = await h.Store.AppendToStreamAsync($"order-{i % 2}", ExpectedRevision.Any, [e]);
            if (environment == "prod") prod.Add(e.EventId);
        }

        await StoreReads.WaitUntilVisibleAsync(h.Store, last.Position);

        var filter = new AllFilter(Environment: "prod");
        Assert.Equal(prod, (await StoreReads.ReadAllPagedAsync(h.Store, GlobalPosition.Start, 2, filter)).Select(e => e.EventId));
        Assert.Equal(prod.Count, await h.Store.CountAllAfterAsync(GlobalPosition.Start, filter));
        await using var probe = SubscriptionProbe.Start(h.Store, FromAll.Start, filter);
        await probe.WaitForCaughtUpAsync();
        Assert.Equal(prod, probe.Events.Select(e => e.EventId));
        Assert.Equal(last.Position, probe.Messages.OfType<SubscriptionMessage.CaughtUp>().Single().Position);
    }
}
