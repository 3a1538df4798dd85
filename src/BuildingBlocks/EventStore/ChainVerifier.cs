namespace Triggers.Modular.BuildingBlocks.EventStore;

/// <summary>A stored event with its chain hash (null: appended before the chain existed) and its stored category (derived
/// from the stream name, but a column of its own that filters use, so checked too).</summary>
public sealed record ChainRow(RecordedEvent Event, byte[]? Hash, string Category);

/// <summary>The adapter's raw access for verification (docs/adr/0016).</summary>
public interface IEventChain
{
    /// <summary><c>$all</c> forward after <paramref name="after"/>, visible rows only, optionally one tenant × environment.</summary>
    Task<IReadOnlyList<ChainRow>> ReadAsync(GlobalPosition after, int maxCount, string? tenantId, string? environment,
        CancellationToken cancellationToken = default);

    /// <summary>The event at a stream's revision, or null when there is none.</summary>
    Task<ChainRow?> ReadAtAsync(string stream, long revision, CancellationToken cancellationToken = default);

    /// <summary>The streams' recorded revisions and last hashes (at most 1,000 names a call); an unknown stream has no entry.</summary>
    Task<IReadOnlyDictionary<string, StreamHead>> ReadHeadsAsync(IReadOnlyList<string> streams, CancellationToken cancellationToken = default);

    /// <summary>Where the chain began: the last event stored without a hash, before hashing was part of every append
    /// (recorded by a migration; <see cref="GlobalPosition.Start"/> for a store that had none).</summary>
    Task<GlobalPosition> ReadChainStartAsync(CancellationToken cancellationToken = default);
}

public sealed record StreamHead(long Revision, byte[]? LastHash);

/// <summary>What verification found first. <see cref="Kind"/>: <c>altered</c> (the stored event does not hash to its
/// link: its data, metadata, type, time or hash was changed), <c>missing</c> (a revision of the stream is gone — deleted
/// from the middle or the end), <c>reordered</c> (a revision out of its place), <c>unhashed</c> (an event without a hash
/// after hashed ones: a hash removed).</summary>
public sealed record ChainProblem(string Kind, string Stream, long Revision, string? Position, string? EventId, string Detail);

/// <summary><see cref="Checked"/> events verified in <see cref="Streams"/> streams; <see cref="UnhashedLegacy"/> events recorded
/// before the chain began (<see cref="IEventChain.ReadChainStartAsync"/>: not covered). <see cref="LastPosition"/>: where the walk
/// stopped.</summary>
public sealed record ChainReport(bool Ok, long Checked, long Streams, long UnhashedLegacy, string? LastPosition, ChainProblem? FirstProblem);

/// <summary>
/// Walks <c>$all</c> (a range, or everything; one tenant × environment or the whole store) and checks each stream's chain:
/// revisions in order without gaps, each event hashing to its stored link from the previous one, and — when the walk
/// reaches the head — each stream ending where its recorded revision and last hash say. Stops at the first problem.
/// Memory grows with the number of streams walked (a revision and a hash each), not with events.
/// </summary>
public sealed class ChainVerifier(IEventChain chain)
{
    private const int PageSize = 1_000;

    private sealed class StreamState(long next, byte[] previous, bool hashed)
    {
        /// <summary>Position of the last event of this stream the walk checked.</summary>
        public GlobalPosition LastPosition { get; set; }

        public long Next { get; set; } = next;
        public byte[] Previous { get; set; } = previous;
        public bool Hashed { get; set; } = hashed;
    }

    /// <param name="after">Start after this position (exclusive); null: from the first event.</param>
    /// <param name="upTo">Stop after this position (inclusive); null: to the head, and check the streams' recorded ends.</param>
    public async Task<ChainReport> VerifyAsync(string? tenantId, string? environment, GlobalPosition? after, GlobalPosition? upTo,
        CancellationToken cancellationToken = default)
    {
        var streams = new Dictionary<string, StreamState>(StringComparer.Ordinal);
        var scope = new Scope(tenantId, environment, await chain.ReadChainStartAsync(cancellationToken).ConfigureAwait(false));
        long checkedCount = 0, legacy = 0;
        var position = after ?? GlobalPosition.Start;
        string? last = null;
        while (true)
        {
            var page = await chain.ReadAsync(position, PageSize, tenantId, environment, cancellationToken).ConfigureAwait(false);
            foreach (var row in page)
            {
                var e = row.Event;
                if (upTo is { } end && e.Position > end) return Report(null);
                var problem = await CheckAsync(streams, row, scope, cancellationToken).ConfigureAwait(false);
                if (problem is not null) return Report(problem);
                if (row.Hash is null) legacy++;
                checkedCount++;
                last = e.Position.ToString();
                position = e.Position;
            }

            if (page.Count < PageSize) break;
        }

        if (upTo is null)
        {
            // The streams' recorded ends, read a thousand at a time.
            foreach (var chunk in streams.Keys.Order(StringComparer.Ordinal).Chunk(PageSize))
            {
                var heads = await chain.ReadHeadsAsync(chunk, cancellationToken).ConfigureAwait(false);
                foreach (var name in chunk)
                {
                    var problem = await CheckEndAsync(name, streams[name], heads.GetValueOrDefault(name), scope, position, cancellationToken).ConfigureAwait(false);
                    if (problem is not null) return Report(problem);
                }
            }
        }

        return Report(null);

        ChainReport Report(ChainProblem? problem) => new(problem is null, checkedCount, streams.Count, legacy, last, problem);
    }

    private async Task<ChainProblem?> CheckAsync(Dictionary<string, StreamState> streams, ChainRow row, Scope scope, CancellationToken cancellationToken)
    {
        var e = row.Event;
        if (!streams.TryGetValue(e.StreamName, out var state))
        {
            // The first event of this stream in the walk: seed from the one before it.
            if (e.Revision == 0)
            {
                state = new StreamState(0, EventHash.Genesis(), false);
            }
            else
            {
                var before = await chain.ReadAtAsync(e.StreamName, e.Revision - 1, cancellationToken).ConfigureAwait(false);
                if (before is null)
                    return new ChainProblem("missing", e.StreamName, e.Revision - 1, e.Position.ToString(), e.EventId.ToString(),
                        $"revision {e.Revision - 1} of the stream is not in the store (noticed at revision {e.Revision})");
                state = new StreamState(e.Revision, before.Hash ?? EventHash.Genesis(), before.Hash is not null);
            }

            streams[e.StreamName] = state;
        }

        if (e.Revision < state.Next) return Problem("reordered", e, $"revision {e.Revision} comes again after {state.Next - 1}");
        while (e.Revision > state.Next)
        {
            // A gap in this walk. Fine only when the revisions between belong to another scope (a stream shared by several
            // environments, walked for one of them): then they are checked here, in order.
            var between = await chain.ReadAtAsync(e.StreamName, state.Next, cancellationToken).ConfigureAwait(false);
            if (between is null)
                return new ChainProblem("missing", e.StreamName, state.Next, e.Position.ToString(), e.EventId.ToString(),
                    $"revision {state.Next} of the stream is not in the store (noticed at revision {e.Revision})");
            if (scope.Contains(between.Event))
                return Problem("reordered", e, $"expected revision {state.Next} here, found {e.Revision}; revision {state.Next} is elsewhere in the log");
            if (Link(state, between, scope) is { } problem) return problem;
        }

        return Link(state, row, scope);
    }

    /// <summary>Checks one event against the stream's chain so far and moves the chain on.</summary>
    private static ChainProblem? Link(StreamState state, ChainRow row, Scope scope)
    {
        var e = row.Event;
        if (!string.Equals(row.Category, StreamName.CategoryOf(e.StreamName), StringComparison.Ordinal))
            return Problem("altered", e, $"stored category '{row.Category}' is not its stream's");
        if (row.Hash is null)
        {
            if (state.Hashed) return Problem("unhashed", e, "no hash, after hashed events of the stream");
            if (e.Position > scope.ChainStart)
                return Problem("unhashed", e, $"no hash, though recorded after the chain began (position {scope.ChainStart}): its hash was removed");
            state.Next = e.Revision + 1;
            state.LastPosition = e.Position;
            return null;
        }

        var digest = EventHash.Digest(e.EventId, e.StreamName, e.Type, e.SchemaVersion, e.Data, e.Metadata, e.CreatedAt);
        var link = EventHash.Link(state.Previous, digest, e.Revision);
        if (!link.AsSpan().SequenceEqual(row.Hash))
            return Problem("altered", e, "the stored event does not hash to its link: its content, metadata, time or hash was changed (or the event before it)");
        state.Previous = row.Hash;
        state.Hashed = true;
        state.Next = e.Revision + 1;
        state.LastPosition = e.Position;
        return null;
    }

    /// <summary>At the head: the stream's recorded end is where the walk ended. Revisions after the last one walked are fine
    /// when they belong to another scope (checked here, in order) or were appended after the walk passed
    /// (<paramref name="walkedTo"/>); anything else is missing or altered.</summary>
    private async Task<ChainProblem?> CheckEndAsync(string stream, StreamState state, StreamHead? head, Scope scope, GlobalPosition walkedTo,
        CancellationToken cancellationToken)
    {
        if (head is null) return new ChainProblem("missing", stream, state.Next - 1, null, null, "the stream's record is gone");
        while (head.Revision > state.Next - 1)
        {
            var next = await chain.ReadAtAsync(stream, state.Next, cancellationToken).ConfigureAwait(false);
            if (next is null)
                return new ChainProblem("missing", stream, state.Next, null, null,
                    $"the stream is recorded at revision {head.Revision}, its events end at {state.Next - 1}");
            if (scope.Contains(next.Event))
            {
                if (next.Event.Position > walkedTo) return null; // appended after the walk: not part of this check
                return Problem("altered", next.Event, "an event of the walked scope and range that the walk did not meet (its position was changed)");
            }

            if (Link(state, next, scope) is { } problem) return problem;
        }

        var lastRevision = state.Next - 1;
        if (head.Revision < lastRevision)
            return new ChainProblem("altered", stream, head.Revision, null, null, $"the stream is recorded at revision {head.Revision}, its events go on to {lastRevision}");
        if (state.Hashed && (head.LastHash is not { } lastHash || !lastHash.AsSpan().SequenceEqual(state.Previous)))
            return new ChainProblem("missing", stream, lastRevision, null, null, "the stream's recorded last hash is not its last event's: events were removed from its end");
        return null;
    }

    /// <summary>The tenant × environment walked, or everything; and where the chain began.</summary>
    private readonly record struct Scope(string? TenantId, string? Environment, GlobalPosition ChainStart)
    {
        public bool Contains(RecordedEvent e) =>
            TenantId is null || (e.Metadata.TenantId == TenantId && e.Metadata.Environment == Environment);
    }

    private static ChainProblem Problem(string kind, RecordedEvent e, string detail) =>
        new(kind, e.StreamName, e.Revision, e.Position.ToString(), e.EventId.ToString(), detail);
}
