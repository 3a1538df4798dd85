namespace Triggers.Modular.BuildingBlocks.EventStore;

public sealed class EventStoreOptions
{
    /// <summary>Upper bound on one event's data plus metadata, in bytes (1 MiB by default).</summary>
    public int MaxEventSizeBytes { get; set; } = 1024 * 1024;

    /// <summary>Upper bound on events in one append.</summary>
    public int MaxEventsPerAppend { get; set; } = 10_000;

    /// <summary>PostgreSQL group commit (docs/adr/0013): appends are committed by this many committers, each taking every
    /// append queued meanwhile into one transaction. 0 turns it off (one transaction per append, on the caller's task).</summary>
    public int AppendCommitters { get; set; } = 4;

    /// <summary>Upper bound on the appends one group commit takes …</summary>
    public int MaxAppendsPerCommit { get; set; } = 200;

    /// <summary>… and on their events (an append larger than this is committed on its own).</summary>
    public int MaxEventsPerCommit { get; set; } = 2_000;
}
