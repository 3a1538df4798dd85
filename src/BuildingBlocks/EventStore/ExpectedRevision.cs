namespace Triggers.Modular.BuildingBlocks.EventStore;

/// <summary>
/// What the writer believes about the stream before appending, as in EventStoreDB:
/// <see cref="Any"/>, <see cref="NoStream"/>, <see cref="StreamExists"/> or an exact revision (0-based).
/// </summary>
public readonly record struct ExpectedRevision
{
    private const long AnyValue = -2;
    private const long NoStreamValue = -1;
    private const long StreamExistsValue = -4;

    private ExpectedRevision(long value) => Value = value;

    /// <summary>Wire value shared with the storage adapters: -2 any, -1 no stream, -4 stream exists, ≥ 0 exact.</summary>
    public long Value { get; }

    public static ExpectedRevision Any { get; } = new(AnyValue);
    public static ExpectedRevision NoStream { get; } = new(NoStreamValue);
    public static ExpectedRevision StreamExists { get; } = new(StreamExistsValue);

    public static ExpectedRevision Exactly(long revision) =>
        revision >= 0 ? new(revision) : throw new ArgumentOutOfRangeException(nameof(revision), revision, "An exact revision is 0 or more.");

    /// <summary>Whether a stream whose last revision is <paramref name="currentRevision"/> (-1 when absent) satisfies this expectation.</summary>
    public bool IsSatisfiedBy(long currentRevision) => Value switch
    {
        AnyValue => true,
        NoStreamValue => currentRevision == StreamRevision.None,
        StreamExistsValue => currentRevision >= 0,
        _ => currentRevision == Value,
    };

    public override string ToString() => Value switch
    {
        AnyValue => "any",
        NoStreamValue => "no_stream",
        StreamExistsValue => "stream_exists",
        _ => Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

public static class StreamRevision
{
    /// <summary>The revision reported for a stream that has no events.</summary>
    public const long None = -1;
}
