using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.EventStore.Subscriptions;

namespace Triggers.Modular.Bench;

/// <summary>The phases that go through the <see cref="IEventStore"/> port, identical for both adapters.</summary>
internal static class StorePhases
{
    public const int BatchSize = 10;
    public const int ReadPageSize = 1000;
    public const int FillBatchSize = 1000;

    /// <summary>Appends of <paramref name="eventsPerAppend"/> events to the writer's own streams, exact expected revisions.</summary>
    public static Task<PhaseResult> AppendAsync(BenchOptions o, string backend, string scenario, IEventStore store,
        int writers, int eventsPerAppend, string note = "", bool timeOrderedIds = false)
    {
        var tag = $"r{Guid.NewGuid():N}"[..9];
        return Phase.RunAsync(backend, scenario, writers, o.Warmup, o.Duration, w =>
        {
            var rotation = new StreamRotation("bench", tag, w);
            long sequence = 0;
            return Task.FromResult(new Writer(async () =>
            {
                var (stream, expected, slot) = rotation.Next();
                var events = eventsPerAppend == 1
                    ? [Payload.NewEvent(w, sequence++, timeOrderedIds)]
                    : Payload.NewBatch(w, ref sequence, eventsPerAppend, timeOrderedIds);
                var result = await store.AppendToStreamAsync(stream, expected, events);
                rotation.Appended(slot, result);
                return events.Length;
            }));
        }, note);
    }

    /// <summary>Brings the store to at least <paramref name="target"/> events with large appends (each to a new stream).</summary>
    public static async Task<PhaseResult?> FillAsync(string backend, IEventStore store, long existing, long target)
    {
        if (existing >= target) return null;
        var tag = $"f{Guid.NewGuid():N}"[..9];
        var appends = (int)((target - existing + FillBatchSize - 1) / FillBatchSize);
        const int writers = 4;
        var next = -1;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            long sequence = 0;
            int i;
            while ((i = Interlocked.Increment(ref next)) < appends)
                await store.AppendToStreamAsync($"fill-{tag}.{i}", ExpectedRevision.NoStream,
                    Payload.NewBatch(w, ref sequence, FillBatchSize));
        })));
        var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
        return new PhaseResult(backend, $"fill: {FillBatchSize}-event appends (untimed phase, one pass)", writers, appends,
            (long)appends * FillBatchSize, seconds, 0, 0, "to reach the $all read size");
    }

    /// <summary>Pages $all from the start with <see cref="IEventStore.ReadAllForwardAsync"/>; starts over at the end.</summary>
    public static Task<PhaseResult> ReadAllPagingAsync(BenchOptions o, string backend, IEventStore store, long total) =>
        Phase.RunAsync(backend, $"$all read: ReadAllForwardAsync, pages of {ReadPageSize}", 1, o.Warmup, o.Duration, _ =>
        {
            var after = GlobalPosition.Start;
            return Task.FromResult(new Writer(async () =>
            {
                var slice = await store.ReadAllForwardAsync(after, ReadPageSize);
                after = slice.IsEnd ? GlobalPosition.Start : slice.ScannedUpTo;
                return slice.Events.Count;
            }));
        }, $"{total:N0} events in $all; latency per page", minOps: 3);

    /// <summary>
    /// Catch-up subscriptions from the start: consumes messages until <see cref="SubscriptionMessage.CaughtUp"/>, then
    /// starts a new subscription. One operation = up to <see cref="ReadPageSize"/> events handed to the consumer.
    /// </summary>
    public static Task<PhaseResult> ReadAllSubscriptionAsync(BenchOptions o, string backend, IEventStore store, long total) =>
        Phase.RunAsync(backend, $"$all read: SubscribeToAllAsync catch-up, batch {ReadPageSize}", 1, o.Warmup, o.Duration, _ =>
        {
            CancellationTokenSource? cts = null;
            IAsyncEnumerator<SubscriptionMessage>? subscription = null;

            async ValueTask CloseAsync()
            {
                if (subscription is not null)
                {
                    await cts!.CancelAsync();
                    await subscription.DisposeAsync();
                    cts.Dispose();
                }

                subscription = null;
                cts = null;
            }

            return Task.FromResult(new Writer(async () =>
            {
                if (subscription is null)
                {
                    cts = new CancellationTokenSource();
                    subscription = store.SubscribeToAllAsync(FromAll.Start,
                        settings: new SubscriptionSettings(BatchSize: ReadPageSize), cancellationToken: cts.Token)
                        .GetAsyncEnumerator(cts.Token);
                }

                var seen = 0;
                while (seen < ReadPageSize && await subscription.MoveNextAsync())
                {
                    if (subscription.Current is SubscriptionMessage.EventAppeared) seen++;
                    else if (subscription.Current is SubscriptionMessage.CaughtUp)
                    {
                        await CloseAsync();
                        break;
                    }
                }

                return seen;
            }, CloseAsync));
        }, $"{total:N0} events in $all; latency per {ReadPageSize} events", minOps: 3);
}
