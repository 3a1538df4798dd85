using Microsoft.Extensions.Logging;

namespace Triggers.Modular.BuildingBlocks.EventStore.Subscriptions;

public sealed record AllTailOptions
{
    /// <summary>Events read per <c>$all</c> page (unfiltered).</summary>
    public int PageSize { get; init; } = 1000;

    /// <summary>The window keeps at most this many recent events …</summary>
    public int MaxEvents { get; init; } = 20_000;

    /// <summary>… and at most about this many characters of event data; the oldest go first.</summary>
    public long MaxDataChars { get; init; } = 32L * 1024 * 1024;

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>
/// One reader of the head of <c>$all</c> shared by every subscriber of a process: it reads each new page once, unfiltered,
/// and keeps a window of recent events in memory, from which subscribers that are caught up take their filtered pages
/// (<see cref="TryRead"/>) instead of each querying the store on every append. A subscriber behind the window reads the
/// store itself until it reaches it. The window is contiguous: it holds every visible event after
/// <see cref="WindowStart"/> up to <see cref="ScannedUpTo"/>, so a filtered page served from it is exactly the page the
/// store would have returned.
/// </summary>
public sealed class AllTail(IEventStore store, AllTailOptions options, ILogger logger)
{
    private readonly Lock _gate = new();
    private readonly List<RecordedEvent> _events = [];
    private long _dataChars;
    private GlobalPosition _windowStart;
    private GlobalPosition _scanned;
    private bool _started;
    private TaskCompletionSource _advanced = NewSource();

    /// <summary>Completes at the window's next advance (new events, or the scanned position moving).</summary>
    public Task NextAdvance => Volatile.Read(ref _advanced).Task;

    public GlobalPosition WindowStart
    {
        get { lock (_gate) return _windowStart; }
    }

    public GlobalPosition ScannedUpTo
    {
        get { lock (_gate) return _scanned; }
    }

    /// <summary>Follows <c>$all</c> from the head visible now until cancelled; retries after failures.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var start = await store.ReadHeadPositionAsync(cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    // After a failure, continue from where the window ends: it stays contiguous.
                    if (!_started)
                    {
                        _windowStart = _scanned = start;
                        _started = true;
                    }
                    else
                    {
                        start = _scanned;
                    }
                }

                var settings = new SubscriptionSettings(options.PageSize, options.PollInterval);
                await foreach (var slice in store.ReadAllPagesAsync(FromAll.AfterPosition(start), null, settings, cancellationToken).ConfigureAwait(false))
                    Add(slice);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                logger.LogWarning(ex, "Reading the head of $all failed; subscribers read the store themselves meanwhile; retrying");
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private void Add(AllSlice slice)
    {
        lock (_gate)
        {
            if (slice.ScannedUpTo <= _scanned && slice.Events.Count == 0) return;
            foreach (var e in slice.Events)
            {
                if (e.Position <= _scanned) continue;
                _events.Add(e);
                _dataChars += e.Data.Length;
            }

            if (slice.ScannedUpTo > _scanned) _scanned = slice.ScannedUpTo;
            Trim();
        }

        Interlocked.Exchange(ref _advanced, NewSource()).TrySetResult();
    }

    private void Trim()
    {
        if (_events.Count <= options.MaxEvents && _dataChars <= options.MaxDataChars) return;
        // Drop a quarter at a time, so trimming stays rare.
        var keepEvents = options.MaxEvents * 3 / 4;
        var keepChars = options.MaxDataChars * 3 / 4;
        var drop = 0;
        var chars = _dataChars;
        while (drop < _events.Count && (_events.Count - drop > keepEvents || chars > keepChars))
        {
            chars -= _events[drop].Data.Length;
            drop++;
        }

        if (drop == 0) return;
        _windowStart = _events[drop - 1].Position;
        _events.RemoveRange(0, drop);
        _dataChars = chars;
    }

    /// <summary>
    /// The page a store read after <paramref name="after"/> would give (up to <paramref name="maxCount"/> matching events),
    /// served from the window; null when the window does not reach back to <paramref name="after"/> (read the store). A
    /// subscriber at or beyond the window's end gets an empty page at its own position: wait for <see cref="NextAdvance"/>.
    /// </summary>
    public AllSlice? TryRead(GlobalPosition after, int maxCount, AllFilter? filter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        lock (_gate)
        {
            if (!_started || after < _windowStart) return null;
            if (after >= _scanned) return new AllSlice([], after, IsEnd: true, HeldBack: false);

            var page = new List<RecordedEvent>();
            for (var i = FirstAfter(after); i < _events.Count; i++)
            {
                var e = _events[i];
                if (filter is not null && !filter.Matches(e)) continue;
                page.Add(e);
                if (page.Count == maxCount)
                {
                    var full = e.Position;
                    return new AllSlice(page, full, IsEnd: full >= _scanned, HeldBack: false);
                }
            }

            return new AllSlice(page, _scanned, IsEnd: true, HeldBack: false);
        }
    }

    private int FirstAfter(GlobalPosition after)
    {
        int lo = 0, hi = _events.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_events[mid].Position <= after) lo = mid + 1;
            else hi = mid;
        }

        return lo;
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
