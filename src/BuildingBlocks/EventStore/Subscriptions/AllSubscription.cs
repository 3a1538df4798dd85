using System.Runtime.CompilerServices;

namespace Triggers.Modular.BuildingBlocks.EventStore.Subscriptions;

public sealed record SubscriptionSettings(int BatchSize = 500, TimeSpan? PollInterval = null);

/// <summary>
/// Catch-up subscriptions to <c>$all</c>: page through history from a checkpoint, then wait for wake-ups (the
/// store's append signal, with polling as the fallback) and turn live. Back-pressure is by pull: the next page is
/// read only when the consumer has taken the previous one, so at most one page is buffered.
/// </summary>
public static class AllSubscription
{
    /// <summary>Longest back-off while committed events wait behind an older open transaction.</summary>
    private static readonly TimeSpan HeldBackRetry = TimeSpan.FromMilliseconds(20);

    /// <summary>What a reader at the end of <c>$all</c> waits for after <paramref name="slice"/>: the next append (taken before
    /// the read), or, while events are held back, that or <see cref="HeldBackRetry"/>, whichever comes first (in this
    /// process, the older transaction's own commit is usually what releases them).</summary>
    internal static Task NextWake(AllSlice slice, Task nextAppend, CancellationToken cancellationToken)
    {
        if (!slice.HeldBack) return nextAppend;
        EventStoreMetrics.HeldBackReads.Add(1);
        return Task.WhenAny(nextAppend, Task.Delay(HeldBackRetry, cancellationToken));
    }

    private static readonly TimeSpan DefaultPoll = TimeSpan.FromMilliseconds(500);

    /// <summary>Event by event, with checkpoints for filtered-out stretches and a marker when caught up.</summary>
    public static async IAsyncEnumerable<SubscriptionMessage> SubscribeToAllAsync(this IEventStore store, FromAll start,
        AllFilter? filter = null, SubscriptionSettings? settings = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var checkpoint = start.After;
        var live = false;
        await foreach (var slice in store.ReadAllPagesAsync(start, filter, settings, cancellationToken).ConfigureAwait(false))
        {
            foreach (var e in slice.Events)
            {
                checkpoint = e.Position;
                yield return new SubscriptionMessage.EventAppeared(e);
            }

            if (slice.ScannedUpTo > checkpoint)
            {
                checkpoint = slice.ScannedUpTo;
                yield return new SubscriptionMessage.CheckpointReached(checkpoint);
            }

            if (slice.IsEnd && !live)
            {
                live = true;
                yield return new SubscriptionMessage.CaughtUp(checkpoint);
            }
        }
    }

    /// <summary>
    /// Page by page: every page read, including empty ones whose <see cref="AllSlice.ScannedUpTo"/> moved, so a
    /// consumer can apply a page and its checkpoint in one transaction. Never ends until cancelled.
    /// </summary>
    public static async IAsyncEnumerable<AllSlice> ReadAllPagesAsync(this IEventStore store, FromAll start,
        AllFilter? filter = null, SubscriptionSettings? settings = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        settings ??= new SubscriptionSettings();
        var poll = settings.PollInterval ?? DefaultPoll;
        var checkpoint = start.After;

        while (!cancellationToken.IsCancellationRequested)
        {
            // Taken before the read, so an append that commits during the read still wakes us.
            var nextAppend = store.AppendSignal.NextAppend;
            var slice = await store.ReadAllForwardAsync(checkpoint, settings.BatchSize, filter, cancellationToken)
                .ConfigureAwait(false);
            if (slice.Events.Count > 0 || slice.ScannedUpTo > checkpoint || slice.IsEnd)
                yield return slice;
            if (slice.ScannedUpTo > checkpoint) checkpoint = slice.ScannedUpTo;
            if (!slice.IsEnd) continue;

            await WaitAsync(NextWake(slice, nextAppend, cancellationToken), poll, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Until <paramref name="wake"/> completes, <paramref name="poll"/> passes (the fallback for a lost wake-up from
    /// another process) or the token is cancelled (the caller's loop ends then).</summary>
    internal static async Task WaitAsync(Task wake, TimeSpan poll, CancellationToken cancellationToken)
    {
        try
        {
            await wake.WaitAsync(poll, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Polling fallback: a wake-up from another process may have been lost.
        }
        catch (OperationCanceledException)
        {
            // The loop condition ends the subscription.
        }
    }
}
