using Triggers.Modular.BuildingBlocks.EventStore;

namespace Triggers.Modular.BuildingBlocks.Tests.EventStore;

/// <summary>History queries (IEventHistory, docs/adr/0016): every filter combined with created-time ranges near the head,
/// far behind it and outside the history, both orders, paged by cursor — compared with <c>$all</c> filtered in memory.
/// On PostgreSQL the ranges far behind the head are read range first (HistoryRangePlan), the others by the scope walk.</summary>
public abstract partial class EventStoreContract
{
    [Fact]
    public async Task Given_old_and_new_history_When_queried_by_time_range_with_every_filter_and_paged_Then_pages_hold_exactly_the_matching_events_in_order()
    {
        await using var h = await CreateAsync();
        var history = (IEventHistory)h.Store;
        var (mine, other, prod) = (new EventMetadata("t1", "dev", "user:alice", null, null), new EventMetadata("t2", "dev", "user:alice", null, null),
            new EventMetadata("t1", "prod", "user:bob", null, null));
        var types = new[] { "order_placed", "order_paid", "order_placed", "order_cancelled" };

        // Old history, then a pause longer than it took, then newer history: a range inside the old part lies far behind the head.
        for (var i = 0; i < 40; i++)
        {
            var actor = i % 3 == 0 ? "user:bob" : "user:alice";
            await h.Store.AppendToStreamAsync($"order-{i % 4}", ExpectedRevision.Any,
                [TestEvents.New(types[i % 4], metadata: mine with { Actor = actor })]);
            if (i % 2 == 0) await h.Store.AppendToStreamAsync($"order_x-{i % 3}", ExpectedRevision.Any, [TestEvents.New(types[i % 4], metadata: other)]);
            if (i % 5 == 0) await h.Store.AppendToStreamAsync($"order_p-{i % 3}", ExpectedRevision.Any, [TestEvents.New(types[i % 4], metadata: prod)]);
        }

        await Task.Delay(700);
        for (var i = 0; i < 60; i++)
        {
            await h.Store.AppendToStreamAsync($"invoice-{i % 5}", ExpectedRevision.Any,
                [TestEvents.New(i % 7 == 0 ? "order_paid" : "invoice_sent", metadata: mine with { Actor = i % 2 == 0 ? "user:bob" : "user:alice" })]);
            if (i % 2 == 0) await h.Store.AppendToStreamAsync($"invoice_x-{i % 3}", ExpectedRevision.Any, [TestEvents.New("invoice_sent", metadata: other)]);
        }

        var all = await StoreReads.ReadAllSettledAsync(h.Store);
        var scope = all.Where(e => e.Metadata.TenantId == "t1" && e.Metadata.Environment == "dev").ToList();
        var oldPart = scope.Where(e => e.StreamName.StartsWith("order-", StringComparison.Ordinal)).ToList();
        var newPart = scope.Where(e => e.StreamName.StartsWith("invoice-", StringComparison.Ordinal)).ToList();
        var ranges = new (DateTimeOffset? From, DateTimeOffset? To)[]
        {
            (oldPart[8].CreatedAt, oldPart[31].CreatedAt),                        // inside the old part: far behind the head
            (null, oldPart[20].CreatedAt),                                        // everything before a time in the old part
            (oldPart[30].CreatedAt, null),                                        // everything since
            (newPart[10].CreatedAt, newPart[50].CreatedAt),                       // near the head
            (oldPart[0].CreatedAt.AddHours(-2), oldPart[0].CreatedAt.AddHours(-1)), // before the history
            (newPart[^1].CreatedAt.AddHours(1), null),                            // after it
        };
        var filters = new (string Name, Func<HistoryQuery, HistoryQuery> Apply, Func<RecordedEvent, bool> Matches)[]
        {
            ("none", q => q, _ => true),
            ("type", q => q with { Type = "order_paid" }, e => e.Type == "order_paid"),
            ("rare type", q => q with { Type = "order_cancelled" }, e => e.Type == "order_cancelled"),
            ("type prefix", q => q with { TypePrefix = "order_" }, e => e.Type.StartsWith("order_", StringComparison.Ordinal)),
            ("actor", q => q with { Actor = "user:bob" }, e => e.Metadata.Actor == "user:bob"),
            ("category and type", q => q with { Category = "order", Type = "order_placed" }, e => e.Category == "order" && e.Type == "order_placed"),
            ("stream", q => q with { Stream = "order-1" }, e => e.StreamName == "order-1"),
        };

        foreach (var (from, to) in ranges)
        foreach (var (name, apply, matches) in filters)
        foreach (var direction in new[] { ReadDirection.Forward, ReadDirection.Backward })
        {
            var expected = scope.Where(e => matches(e) && (from is null || e.CreatedAt >= from) && (to is null || e.CreatedAt < to)).Select(e => e.EventId).ToList();
            if (direction == ReadDirection.Backward) expected.Reverse();
            var walked = new List<Guid>();
            GlobalPosition? after = null;
            for (var page = 0; page < 100; page++)
            {
                var events = await history.ReadAsync(apply(new HistoryQuery("t1", "dev", direction, 4) { From = from, To = to, After = after }));
                walked.AddRange(events.Select(e => e.EventId));
                if (events.Count < 4) break;
                after = events[^1].Position;
            }

            Assert.True(expected.SequenceEqual(walked), $"{name}, {direction}, from {from:O} to {to:O}: expected {expected.Count} events, walked {walked.Count}");
        }
    }
}
