namespace Triggers.Modular.BuildingBlocks.EventStore;

public abstract class EventStoreException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The stream's revision did not match the expectation, or a retried append only partly matched what is stored.
/// Nothing was written. <see cref="ActualRevision"/> is -1 when the stream does not exist.
/// </summary>
public sealed class WrongExpectedRevisionException(string stream, ExpectedRevision expected, long actualRevision, string? detail = null)
    : EventStoreException(
        $"Append to '{stream}' failed: expected revision {expected}, actual revision {actualRevision}" +
        (detail is null ? "." : $" ({detail})."))
{
    public string Stream { get; } = stream;
    public ExpectedRevision Expected { get; } = expected;
    public long ActualRevision { get; } = actualRevision;
}

/// <summary>An event id is already used by an event of another stream. Nothing was written.</summary>
public sealed class DuplicateEventIdException(Guid eventId, string stream, string existingStream)
    : EventStoreException($"Append to '{stream}' failed: event id {eventId} is already stored in stream '{existingStream}'.")
{
    public Guid EventId { get; } = eventId;
    public string Stream { get; } = stream;
    public string ExistingStream { get; } = existingStream;
}

/// <summary>The append was malformed (stream name, empty batch, size, JSON). Nothing was written.</summary>
public sealed class InvalidAppendException(string message, string field) : ArgumentException(message, field)
{
    public string Field { get; } = field;
}
