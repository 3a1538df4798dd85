using Triggers.Modular.BuildingBlocks.EventStore;

namespace Triggers.Modular.BuildingBlocks.Tests.EventStore;

/// <summary>Malformed appends are rejected before any I/O and write nothing.</summary>
public abstract partial class EventStoreContract
{
    private static readonly EventStoreOptions SmallLimits = new() { MaxEventSizeBytes = 1024, MaxEventsPerAppend = 5 };

    [Fact]
    public async Task Given_invalid_stream_names_When_appending_Then_InvalidAppend_names_the_stream_field_and_nothing_is_written()
    {
        await using var h = await CreateAsync();
        string[] invalid =
        [
            "", "order", "order-", "-1", "Order-1", "oRder-1", "order-1 ", " order-1", "order-1/2", "order 1-2", "1order-1", "$all",
            "$all-1", "order-" + new string('a', StreamName.MaxLength - "order-".Length + 1),
        ];

        foreach (var stream in invalid)
        {
            var direct = await Assert.ThrowsAsync<InvalidAppendException>(() =>
                h.Store.AppendToStreamAsync(stream, ExpectedRevision.Any, [TestEvents.New()]));
            var pending = await Assert.ThrowsAsync<InvalidAppendException>(() =>
                h.Transactions.BeginAppendAsync(stream, ExpectedRevision.Any, [TestEvents.New()]));

            foreach (var ex in new[] { direct, pending })
            {
                Assert.Equal("stream", ex.Field);
                Assert.Equal("stream", ex.ParamName);
                Assert.Contains($"Invalid stream name '{stream}'", ex.Message, StringComparison.Ordinal);
            }
        }

        Assert.Empty(await StoreReads.ReadAllSettledAsync(h.Store));
    }

    [Fact]
    public async Task Given_the_longest_valid_stream_name_When_appending_Then_it_is_accepted()
    {
        await using var h = await CreateAsync();
        var stream = new string('c', 63) + "-" + new string('i', 136);
        Assert.Equal(StreamName.MaxLength, stream.Length);

        await h.Store.AppendToStreamAsync(stream, ExpectedRevision.NoStream, [TestEvents.New()]);

        Assert.Single(await StoreReads.ReadStreamAsync(h.Store, stream));
    }

    [Fact]
    public async Task Given_malformed_batches_When_appending_to_an_existing_stream_Then_InvalidAppend_names_the_field_and_nothing_is_written()
    {
        await using var h = await CreateAsync(SmallLimits);
        var seed = await SeedAsync(h, "order-1", 1);
        var ok = TestEvents.New();
        (string Problem, string Field, EventData[] Batch)[] cases =
        [
            ("empty batch", "events", []),
            ("too many events", "events", TestEvents.Batch(SmallLimits.MaxEventsPerAppend + 1)),
            ("data over the size limit", "events[1].data", [ok, TestEvents.New(data: JsonString(SmallLimits.MaxEventSizeBytes + 1))]),
            ("metadata pushes the event over the size limit", "events[0].data",
                [TestEvents.New(data: JsonString(SmallLimits.MaxEventSizeBytes - 10), metadata: new EventMetadata(TenantId: new string('t', 20)))]),
            ("data not JSON", "events[1].data", [ok, TestEvents.New(data: "not json")]),
            ("data truncated JSON", "events[0].data", [TestEvents.New(data: """{"a": [1, 2""")]),
            ("data two JSON values", "events[0].data", [TestEvents.New(data: """{"a":1} {"b":2}""")]),
            ("data with a comment", "events[0].data", [TestEvents.New(data: """{"a":1} // note""")]),
            ("data empty", "events[0].data", [TestEvents.New(data: "")]),
            ("data whitespace", "events[0].data", [TestEvents.New(data: "  ")]),
            ("duplicate ids in one batch", "events[2].event_id", [ok, TestEvents.New(), TestEvents.WithId(ok.EventId)]),
            ("empty event id", "events[0].event_id", [TestEvents.New(id: Guid.Empty)]),
            ("empty type", "events[1].type", [ok, TestEvents.New(type: "")]),
            ("schema version 0", "events[0].schema_version", [TestEvents.New() with { SchemaVersion = 0 }]),
        ];

        foreach (var (problem, field, batch) in cases)
        {
            var direct = await Record.ExceptionAsync(() => h.Store.AppendToStreamAsync("order-1", ExpectedRevision.Any, batch));
            var pending = await Record.ExceptionAsync(() => h.Transactions.BeginAppendAsync("order-1", ExpectedRevision.Any, batch));
            foreach (var ex in new[] { direct, pending })
            {
                Assert.True(ex is InvalidAppendException invalid && invalid.Field == field,
                    $"{problem}: expected InvalidAppendException on '{field}', got {ex?.GetType().Name} '{(ex as InvalidAppendException)?.Field}': {ex?.Message}");
            }
        }

        Assert.Equal(seed.Select(e => e.EventId), (await StoreReads.ReadStreamAsync(h.Store, "order-1")).Select(e => e.EventId));
        Assert.Equal(seed.Select(e => e.EventId), (await StoreReads.ReadAllSettledAsync(h.Store)).Select(e => e.EventId));
        // The stream's revision did not move and no lock was left behind.
        var next = await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.Exactly(0), [TestEvents.New()]).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, next.NextExpectedRevision);
    }

    [Fact]
    public async Task Given_text_that_is_not_valid_unicode_When_appending_Then_InvalidAppend_and_nothing_is_written_or_altered()
    {
        await using var h = await CreateAsync();
        var seed = await SeedAsync(h, "order-1", 1);
        // A lone UTF-16 surrogate has no UTF-8 encoding: such text is not JSON, and cannot be stored byte for byte.
        const string LoneSurrogate = "\uD800";
        (string Problem, string FieldPrefix, EventData Event)[] cases =
        [
            ("lone surrogate in data", "events[0].data", TestEvents.New(data: $"\"a{LoneSurrogate}b\"")),
            ("lone surrogate in type", "events[0].type", TestEvents.New(type: $"order{LoneSurrogate}placed")),
            ("lone surrogate in metadata", "events[0]", TestEvents.New(metadata: new EventMetadata(Actor: $"user{LoneSurrogate}"))),
        ];

        var failures = new List<string>();
        foreach (var (problem, fieldPrefix, e) in cases)
        {
            var ex = await Record.ExceptionAsync(() => h.Store.AppendToStreamAsync("order-1", ExpectedRevision.Any, [e]));
            if (ex is not InvalidAppendException invalid || !invalid.Field.StartsWith(fieldPrefix, StringComparison.Ordinal))
                failures.Add($"{problem}: expected InvalidAppendException on '{fieldPrefix}…', got {ex?.GetType().Name ?? "no exception (accepted)"} {ex?.Message}");
        }

        var stored = await StoreReads.ReadStreamAsync(h.Store, "order-1");
        failures.AddRange(stored.Skip(seed.Count).Select(e => $"stored anyway at revision {e.Revision}, as type '{e.Type}', data '{e.Data}', actor '{e.Metadata.Actor}'"));
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.Equal(seed.Select(e => e.EventId), stored.Select(e => e.EventId));
        Assert.Equal(seed.Select(e => e.EventId), (await StoreReads.ReadAllSettledAsync(h.Store)).Select(e => e.EventId));
    }

    [Fact]
    public async Task Given_a_size_limit_When_an_event_is_exactly_at_the_limit_Then_it_is_accepted_and_one_byte_more_is_not()
    {
        await using var h = await CreateAsync(SmallLimits);
        var atLimit = TestEvents.New(data: JsonString(SmallLimits.MaxEventSizeBytes - 4), metadata: new EventMetadata(TenantId: "abcd"));
        var overLimit = TestEvents.New(data: JsonString(SmallLimits.MaxEventSizeBytes - 4), metadata: new EventMetadata(TenantId: "abcde"));
        // Size is counted in UTF-8 bytes, not characters: 514 characters here, but 1026 bytes.
        var multiByte = TestEvents.New(data: "\"" + new string('é', 512) + "\"");

        await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.NoStream, [atLimit]);
        var ex = await Assert.ThrowsAsync<InvalidAppendException>(() => h.Store.AppendToStreamAsync("order-1", ExpectedRevision.Any, [overLimit]));
        Assert.Equal("events[0].data", ex.Field);
        Assert.Contains("1025 bytes", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidAppendException>(() => h.Store.AppendToStreamAsync("order-1", ExpectedRevision.Any, [multiByte]));

        var stored = Assert.Single(await StoreReads.ReadStreamAsync(h.Store, "order-1"));
        Assert.Equal(atLimit.Data, stored.Data);
    }

    /// <summary>A JSON string literal of exactly <paramref name="bytes"/> UTF-8 bytes, quotes included.</summary>
    private static string JsonString(int bytes) => "\"" + new string('x', bytes - 2) + "\"";
}
