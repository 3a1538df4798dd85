using System.Runtime.CompilerServices;

namespace Triggers.Modular.BuildingBlocks.EventStore.Subscriptions;

public sealed record SubscriptionSettings(int BatchSize = 500, TimeSpan? PollInterval = null);

/// <summary>
/// Catch-up subscription to <c>$all</c>: pages through history from a checkpoint, then waits for wake-ups
/// (append signal, with polling as the fallback) and turns live. Back-pressure is by pull: the next page is
/// read only when the consumer has taken every message of the previous one, so at most one page is buffered.
/// </summary>
public static class AllSubscription
{
    /// <summary>Short back-off while committed events wait behind an older open transaction.</summary>
    private static readonly TimeSpan HeldBackRetry = TimeSpan.FromMilliseconds(20);

    private static readonly TimeSpan DefaultPoll = TimeSpan.FromMilliseconds(500);

    public static async IAsyncEnumerable<SubscriptionMessage> SubscribeToAllAsync(this IEventStore store, FromAll start,
        AllFilter? filter = null, SubscriptionSettings? settings = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        settings ??= new SubscriptionSettings();
        var poll = settings.PollInterval ?? DefaultPoll;
        var checkpoint = start.After;
        var live = false;

        while (!cancellationToken.IsCancellationRequested)
        {
            // Taken before the read, so an append that commits during the read still wakes us.
            var nextAppend = store.AppendSignal.NextAppend;
            var slice = await store.ReadAllForwardAsync(checkpoint, settings.BatchSize, filter, cancellationToken)
                .ConfigureAwait(false);

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

            if (!slice.IsEnd) continue;
            if (!live)
            {
                live = true;
                yield return new SubscriptionMessage.CaughtUp(checkpoint);
            }

            await WaitAsync(slice.HeldBack ? Task.Delay(HeldBackRetry, cancellationToken) : nextAppend, poll, cancellationToken)
                .ConfigureAwait(false);
        }
    }

    private static async Task WaitAsync(Task wake, TimeSpan poll, CancellationToken cancellationToken)
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
