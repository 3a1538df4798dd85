namespace Triggers.Modular.BuildingBlocks.EventStore;

/// <summary>Who and what caused an event. Stored with every event as the envelope's metadata.</summary>
public sealed record EventMetadata(
    string? TenantId = null,
    string? Environment = null,
    string? Actor = null,
    string? CorrelationId = null,
    string? CausationId = null)
{
    public static EventMetadata Empty { get; } = new();
}

/// <summary>An event to append. <paramref name="Data"/> is UTF-8 JSON text.</summary>
public sealed record EventData(
    Guid EventId,
    string Type,
    string Data,
    EventMetadata Metadata,
    int SchemaVersion = 1);

/// <summary>An event as stored: the envelope.</summary>
public sealed record RecordedEvent(
    Guid EventId,
    string StreamName,
    long Revision,
    GlobalPosition Position,
    string Type,
    int SchemaVersion,
    string Data,
    EventMetadata Metadata,
    DateTimeOffset CreatedAt)
{
    public string Category => EventStore.StreamName.CategoryOf(StreamName);
}

/// <summary>
/// Result of an append: the stream's revision after it and the <c>$all</c> position of its last event.
/// <see cref="WasIdempotentReplay"/> is true when every event id was already there and nothing was written.
/// </summary>
public sealed record AppendResult(long NextExpectedRevision, GlobalPosition Position, bool WasIdempotentReplay = false);
