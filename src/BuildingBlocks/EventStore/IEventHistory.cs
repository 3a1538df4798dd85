namespace Triggers.Modular.BuildingBlocks.EventStore;

/// <summary>
/// A page of one tenant × environment's history (the Audit module, SPEC §6): events in <c>$all</c> order,
/// <see cref="Direction"/> forward (oldest first) or backward (newest first), after <see cref="After"/> (exclusive, in that
/// direction; null starts at the beginning, or at the newest visible event backward). Filters combine with AND:
/// <see cref="Type"/> exact or <see cref="TypePrefix"/>; <see cref="From"/> inclusive, <see cref="To"/> exclusive, on the
/// event's created time.
/// </summary>
public sealed record HistoryQuery(string TenantId, string Environment, ReadDirection Direction, int Limit)
{
    public GlobalPosition? After { get; init; }
    public string? Stream { get; init; }
    public string? Category { get; init; }
    public string? Type { get; init; }
    public string? TypePrefix { get; init; }
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
    public string? CorrelationId { get; init; }
    public string? Actor { get; init; }
}

/// <summary>
/// History queries over <c>$all</c> for auditors. Like a <c>$all</c> reader, a page holds only events that no later commit
/// can precede, so paging forward never skips one committed late; paging backward starts at the newest such event, and
/// anything committed afterwards is newer than every page of that walk. Indexed by tenant × environment (position, type,
/// created time) and by correlation id.
/// </summary>
public interface IEventHistory
{
    Task<IReadOnlyList<RecordedEvent>> ReadAsync(HistoryQuery query, CancellationToken cancellationToken = default);
}
