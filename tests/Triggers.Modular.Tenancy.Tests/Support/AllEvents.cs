using Triggers.Modular.BuildingBlocks.EventStore;

namespace Triggers.Modular.Tenancy.Tests.Support;

internal static class AllEvents
{
    /// <summary>
    /// Every committed event of <c>$all</c> (matching <paramref name="filter"/>). On PostgreSQL a reader does not see
    /// events while an older transaction anywhere on the server is still open (tests run in parallel), so this polls
    /// until a read ends with nothing held back.
    /// </summary>
    public static async Task<List<RecordedEvent>> ReadAsync(IEventStore store, AllFilter? filter = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var events = new List<RecordedEvent>();
            var after = GlobalPosition.Start;
            AllSlice slice;
            do
            {
                slice = await store.ReadAllForwardAsync(after, 1000, filter);
                events.AddRange(slice.Events);
                after = slice.ScannedUpTo;
            }
            while (!slice.IsEnd);

            if (!slice.HeldBack) return events;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("$all stayed held back.");
            await Task.Delay(20);
        }
    }
}
