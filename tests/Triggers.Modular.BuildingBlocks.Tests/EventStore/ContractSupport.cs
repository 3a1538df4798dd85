using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.EventStore.Postgres;
using Triggers.Modular.BuildingBlocks.EventStore.Sqlite;
using Triggers.Modular.BuildingBlocks.EventStore.Subscriptions;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.BuildingBlocks.Tests.Support;

namespace Triggers.Modular.BuildingBlocks.Tests.EventStore;

/// <summary>Builds events for the contract tests: a fresh id each time unless one is given.</summary>
internal static class TestEvents
{
    public static EventData New(string type = "thing_happened", string? data = null, EventMetadata? metadata = null, Guid? id = null) =>
        new(id ?? Guid.NewGuid(), type, data ?? """{"n":1}""", metadata ?? EventMetadata.Empty);

    public static EventData[] Batch(int count, string type = "thing_happened", EventMetadata? metadata = null) =>
        Enumerable.Range(0, count).Select(i => New(type, $$"""{"i":{{i}}}""", metadata)).ToArray();

    public static EventData WithId(Guid id, string type = "thing_happened") => New(type, id: id);
}

/// <summary>Polling with a deadline: the only way these tests wait for anything asynchronous.</summary>
internal static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    public static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > limit)
                throw new TimeoutException($"Not reached within {limit}: {what}");
            await Task.Delay(10);
        }
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > limit)
                throw new TimeoutException($"Not reached within {limit}: {what}");
            await Task.Delay(10);
        }
    }
}

/// <summary>Reading helpers that are correct on both adapters.</summary>
internal static class StoreReads
{
    /// <summary>
    /// Waits until a reader of <c>$all</c> can see <paramref name="position"/>. On PostgreSQL, visibility waits for every
    /// older transaction in the cluster (other tests' included) to end; this never lasts long.
    /// </summary>
    public static Task WaitUntilVisibleAsync(IEventStore store, GlobalPosition position) =>
        Eventually.WaitUntilAsync(async () => await store.ReadHeadPositionAsync() >= position, $"$all head reaches {position}");

    /// <summary>Walks <c>$all</c> page by page from <paramref name="after"/> to the visible end.</summary>
    public static async Task<List<RecordedEvent>> ReadAllPagedAsync(IEventStore store, GlobalPosition after, int pageSize,
        AllFilter? filter = null)
    {
        var result = new List<RecordedEvent>();
        for (var pages = 0; pages < 100_000; pages++)
        {
            var slice = await store.ReadAllForwardAsync(after, pageSize, filter);
            Assert.True(slice.Events.Count <= pageSize, $"a page holds at most {pageSize} events, got {slice.Events.Count}");
            result.AddRange(slice.Events);
            if (slice.IsEnd) return result;
            Assert.True(slice.ScannedUpTo > after, $"a page that is not the end must move ScannedUpTo past {after}");
            after = slice.ScannedUpTo;
        }

        throw new InvalidOperationException("$all did not end");
    }

    /// <summary>
    /// Everything in <c>$all</c> once every earlier append has settled: appends a sentinel event, waits until it is
    /// visible (then anything committed before it is visible too), reads all and drops the sentinels. Lets a test show
    /// that a failed append wrote nothing, on PostgreSQL as on SQLite.
    /// </summary>
    public static async Task<List<RecordedEvent>> ReadAllSettledAsync(IEventStore store)
    {
        var sentinel = await store.AppendToStreamAsync($"sentinel-{Guid.NewGuid():N}", ExpectedRevision.NoStream,
            [TestEvents.New("sentinel_written")]);
        await WaitUntilVisibleAsync(store, sentinel.Position);
        var all = await ReadAllPagedAsync(store, GlobalPosition.Start, 1000);
        return all.Where(e => e.Category != "sentinel").ToList();
    }

    public static Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(IEventStore store, string stream) =>
        store.ReadStreamAsync(stream, ReadDirection.Forward, 0, int.MaxValue);
}

/// <summary>A decorator that counts <c>$all</c> reads, so a test can wait until a subscriber has looked again.</summary>
internal sealed class CountingEventStore(IEventStore inner) : IEventStore
{
    private long _allReads;

    public long AllReads => Interlocked.Read(ref _allReads);

    public IAppendSignal AppendSignal => inner.AppendSignal;

    public Task<AppendResult> AppendToStreamAsync(string stream, ExpectedRevision expected, IReadOnlyList<EventData> events,
        CancellationToken cancellationToken = default) => inner.AppendToStreamAsync(stream, expected, events, cancellationToken);

    public Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string stream, ReadDirection direction, long fromRevision, int maxCount,
        CancellationToken cancellationToken = default) => inner.ReadStreamAsync(stream, direction, fromRevision, maxCount, cancellationToken);

    public async Task<AllSlice> ReadAllForwardAsync(GlobalPosition after, int maxCount, AllFilter? filter = null,
        CancellationToken cancellationToken = default)
    {
        var slice = await inner.ReadAllForwardAsync(after, maxCount, filter, cancellationToken);
        Interlocked.Increment(ref _allReads);
        return slice;
    }

    public Task<GlobalPosition> ReadHeadPositionAsync(CancellationToken cancellationToken = default) =>
        inner.ReadHeadPositionAsync(cancellationToken);

    public Task<long> CountAllAfterAsync(GlobalPosition after, AllFilter? filter = null, CancellationToken cancellationToken = default) =>
        inner.CountAllAfterAsync(after, filter, cancellationToken);

    /// <summary>Waits until at least <paramref name="reads"/> more <c>$all</c> reads have completed.</summary>
    public Task WaitForMoreReadsAsync(int reads)
    {
        var target = AllReads + reads;
        return Eventually.WaitUntilAsync(() => AllReads >= target, $"{reads} more $all reads by the subscriber");
    }
}

/// <summary>Runs a <c>$all</c> subscription in the background and records every message it yields.</summary>
internal sealed class SubscriptionProbe : IAsyncDisposable
{
    private readonly ConcurrentQueue<SubscriptionMessage> _messages = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private volatile Exception? _fault;

    private SubscriptionProbe(IEventStore store, FromAll from, AllFilter? filter, SubscriptionSettings settings) =>
        _pump = Task.Run(() => PumpAsync(store, from, filter, settings));

    public static SubscriptionProbe Start(IEventStore store, FromAll from, AllFilter? filter = null, SubscriptionSettings? settings = null) =>
        new(store, from, filter, settings ?? new SubscriptionSettings(BatchSize: 100, PollInterval: TimeSpan.FromMilliseconds(50)));

    public IReadOnlyList<SubscriptionMessage> Messages => _messages.ToArray();

    public IReadOnlyList<RecordedEvent> Events =>
        Messages.OfType<SubscriptionMessage.EventAppeared>().Select(m => m.Event).ToList();

    public async Task WaitUntilAsync(Func<IReadOnlyList<SubscriptionMessage>, bool> condition, string what, TimeSpan? timeout = null)
    {
        await Eventually.WaitUntilAsync(() =>
        {
            if (_fault is not null) throw new InvalidOperationException("The subscription failed", _fault);
            return condition(Messages);
        }, what, timeout);
    }

    public Task WaitForEventsAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(m => m.OfType<SubscriptionMessage.EventAppeared>().Count() >= count, $"{count} events delivered", timeout);

    public Task WaitForCaughtUpAsync() =>
        WaitUntilAsync(m => m.OfType<SubscriptionMessage.CaughtUp>().Any(), "the subscription is caught up");

    private async Task PumpAsync(IEventStore store, FromAll from, AllFilter? filter, SubscriptionSettings settings)
    {
        try
        {
            await foreach (var message in store.SubscribeToAllAsync(from, filter, settings, _stop.Token))
                _messages.Enqueue(message);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // stopped by the test
        }
        catch (Exception ex) when (!_stop.IsCancellationRequested)
        {
            _fault = ex;
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            // the store was torn down while the subscription stopped
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _pump;
        _stop.Dispose();
    }
}

/// <summary>A brand-new database of one kind with no schema at all, for migration tests.</summary>
internal sealed class UnmigratedDatabase : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly TestPostgres.TestDatabase? _pg;
    private readonly string? _sqlitePath;

    private UnmigratedDatabase(StoreKind kind, TestPostgres.TestDatabase? pg, string? sqlitePath)
    {
        Kind = kind;
        _pg = pg;
        _sqlitePath = sqlitePath;
    }

    public StoreKind Kind { get; }

    public static async Task<UnmigratedDatabase> CreateAsync(StoreKind kind) => kind == StoreKind.Postgres
        ? new UnmigratedDatabase(kind, await TestPostgres.CreateDatabaseAsync(), null)
        : new UnmigratedDatabase(kind, null, Path.Combine(Path.GetTempPath(), "tm-tests", Guid.NewGuid().ToString("N"), "events.db"));

    /// <summary>A new, independent handle on the database, as another process would open it.</summary>
    public IStoreDatabase Open()
    {
        if (Kind == StoreKind.Sqlite)
            return new SqliteStoreDatabase(new SqliteStoreOptions { Path = _sqlitePath! });
        var database = new PostgresStoreDatabase(NpgsqlDataSource.Create(_pg!.ConnectionString));
        _owned.Add(database);
        return database;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned)
            await owned.DisposeAsync();
        if (_pg is not null) await _pg.DisposeAsync();
        if (_sqlitePath is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(Path.GetDirectoryName(_sqlitePath)!, recursive: true);
            }
            catch (IOException)
            {
                // left for the OS to clean
            }
        }
    }
}
