namespace Triggers.Modular.BuildingBlocks.EventStore;

public sealed class EventStoreOptions
{
    /// <summary>Upper bound on one event's data plus metadata, in bytes (1 MiB by default).</summary>
    public int MaxEventSizeBytes { get; set; } = 1024 * 1024;

    /// <summary>Upper bound on events in one append.</summary>
    public int MaxEventsPerAppend { get; set; } = 10_000;
}
