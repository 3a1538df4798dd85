namespace Triggers.Modular.BuildingBlocks.EventStore;

public enum ReadDirection
{
    Forward,
    Backward,
}

/// <summary>
/// The event store port. Semantics follow EventStoreDB (docs/adr/0002): expected revisions, idempotent
/// retries by event id, a global <c>$all</c> order that a reader can follow without skipping.
/// </summary>
public interface IEventStore
{
    /// <summary>Appends atomically. Throws <see cref="WrongExpectedRevisionException"/>,
    /// <see cref="DuplicateEventIdException"/> or <see cref="InvalidAppendException"/>; nothing is written then.</summary>
    Task<AppendResult> AppendToStreamAsync(string stream, ExpectedRevision expected, IReadOnlyList<EventData> events,
        CancellationToken cancellationToken = default);

    /// <summary>Reads up to <paramref name="maxCount"/> events from <paramref name="fromRevision"/> (inclusive)
    /// in the given direction; backward from <see cref="long.MaxValue"/> reads from the end.
    /// An absent stream reads as empty.</summary>
    Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string stream, ReadDirection direction, long fromRevision,
        int maxCount, CancellationToken cancellationToken = default);

    /// <summary>Reads <c>$all</c> forward from after <paramref name="after"/> (exclusive). Only events whose
    /// position can no longer be preceded by a later commit are returned.</summary>
    Task<AllSlice> ReadAllForwardAsync(GlobalPosition after, int maxCount, AllFilter? filter = null,
        CancellationToken cancellationToken = default);

    /// <summary>The position of the last event a reader of <c>$all</c> can see now.</summary>
    Task<GlobalPosition> ReadHeadPositionAsync(CancellationToken cancellationToken = default);

    /// <summary>Number of events after <paramref name="after"/> that a reader can see now (lag measurement).</summary>
    Task<long> CountAllAfterAsync(GlobalPosition after, AllFilter? filter = null, CancellationToken cancellationToken = default);

    /// <summary>Wake-ups after appends (in this process, and from other processes where the adapter can).</summary>
    IAppendSignal AppendSignal { get; }
}

/// <summary>
/// One page of <c>$all</c>. <see cref="ScannedUpTo"/> is the position up to which every visible event was
/// examined, matched or not: a subscriber can checkpoint it even when <see cref="Events"/> is empty.
/// <see cref="IsEnd"/>: nothing visible lies beyond. <see cref="HeldBack"/>: committed events exist that are
/// not yet readable because an older transaction is still open (PostgreSQL only).
/// </summary>
public sealed record AllSlice(IReadOnlyList<RecordedEvent> Events, GlobalPosition ScannedUpTo, bool IsEnd, bool HeldBack);

/// <summary>Server-side filter for <c>$all</c>. Within a list, any entry matches; across lists, all must.</summary>
public sealed record AllFilter(
    IReadOnlyList<string>? Categories = null,
    IReadOnlyList<string>? EventTypePrefixes = null,
    string? TenantId = null,
    string? Environment = null)
{
    public static AllFilter ForCategories(params string[] categories) => new(Categories: categories);
    public static AllFilter ForEventTypePrefixes(params string[] prefixes) => new(EventTypePrefixes: prefixes);
    public static AllFilter ForTenant(string tenantId, string? environment = null) => new(TenantId: tenantId, Environment: environment);

    public bool Matches(RecordedEvent e) =>
        (Categories is not { Count: > 0 } || Categories.Contains(e.Category, StringComparer.Ordinal))
        && (EventTypePrefixes is not { Count: > 0 } || EventTypePrefixes.Any(p => e.Type.StartsWith(p, StringComparison.Ordinal)))
        && (TenantId is null || e.Metadata.TenantId == TenantId)
        && (Environment is null || e.Metadata.Environment == Environment);
}

/// <summary>Lets subscribers wait for "something was appended" instead of polling tightly.</summary>
public interface IAppendSignal
{
    /// <summary>A task that completes at the next append signalled after this property was read.</summary>
    Task NextAppend { get; }
}
