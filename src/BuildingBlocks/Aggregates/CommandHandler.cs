using Triggers.Modular.BuildingBlocks.EventStore;

namespace Triggers.Modular.BuildingBlocks.Aggregates;

/// <summary><see cref="WasReplay"/>: the command's deterministic event ids were already in the stream, so it had been
/// applied before (a retry after a lost reply); nothing was decided or written, the state is the current one.</summary>
public sealed record CommandResult<TState, TEvent>(TState State, IReadOnlyList<TEvent> NewEvents, long Revision, AppendResult? Append,
    bool WasReplay = false);

/// <summary>
/// Load–decide–append: rebuilds the state from the stream, decides, and appends with the revision it read as the
/// expected revision. When <c>maxAttempts</c> &gt; 1 (commands that are safe to re-decide), a concurrency conflict
/// reloads and decides again.
/// </summary>
public sealed class CommandHandler(IEventStore store, EventSerializer serializer)
{
    private const int PageSize = 1000;

    public async Task<(TState State, long Revision)> LoadAsync<TState, TCommand, TEvent>(IDecider<TState, TCommand, TEvent> decider,
        string stream, CancellationToken cancellationToken = default)
    {
        var (state, revision, _) = await LoadAsync(decider, stream, trackIds: false, null, cancellationToken).ConfigureAwait(false);
        return (state, revision);
    }

    /// <summary>Loads from a snapshot — the state folded up to a revision, e.g. kept by a read model with the stream
    /// revision it applied last — and the stream's events after it: as exact as a load from the start, without reading a
    /// long stream from its beginning. No snapshot (null) loads from the start.</summary>
    public async Task<(TState State, long Revision)> LoadAsync<TState, TCommand, TEvent>(IDecider<TState, TCommand, TEvent> decider,
        string stream, Func<CancellationToken, Task<(TState State, long Revision)?>> snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var (state, revision, _) = await LoadAsync(decider, stream, trackIds: false, await snapshot(cancellationToken).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        return (state, revision);
    }

    private async Task<(TState State, long Revision, HashSet<Guid>? Ids)> LoadAsync<TState, TCommand, TEvent>(
        IDecider<TState, TCommand, TEvent> decider, string stream, bool trackIds, (TState State, long Revision)? from,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decider);
        var ids = trackIds ? new HashSet<Guid>() : null;
        var state = from is { } snapshot ? snapshot.State : decider.Initial;
        var revision = from is { } start ? start.Revision : StreamRevision.None;
        while (true)
        {
            var page = await store.ReadStreamAsync(stream, ReadDirection.Forward, revision + 1, PageSize, cancellationToken).ConfigureAwait(false);
            foreach (var e in page)
            {
                state = decider.Evolve(state, (TEvent)serializer.Deserialize(e));
                revision = e.Revision;
                ids?.Add(e.EventId);
            }

            if (page.Count < PageSize) return (state, revision, ids);
        }
    }

    /// <param name="eventId">Id of the i-th new event; derive it from the command's idempotency key to make retries no-ops.
    /// Defaults to a new time-ordered id.</param>
    /// <param name="snapshot">Where to start loading (see the snapshot <c>LoadAsync</c>); taken again on every attempt. Not with
    /// <paramref name="eventId"/>: a replay is recognised by ids anywhere in the stream.</param>
    public async Task<CommandResult<TState, TEvent>> HandleAsync<TState, TCommand, TEvent>(IDecider<TState, TCommand, TEvent> decider,
        string stream, TCommand command, EventMetadata metadata, Func<int, Guid>? eventId = null, int maxAttempts = 1,
        CancellationToken cancellationToken = default, Func<CancellationToken, Task<(TState State, long Revision)?>>? snapshot = null)
    {
        if (snapshot is not null && eventId is not null)
            throw new ArgumentException("A snapshot cannot be combined with deterministic event ids.", nameof(snapshot));
        ArgumentNullException.ThrowIfNull(decider);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        var deterministic = eventId is not null;
        eventId ??= _ => Guid.CreateVersion7();
        for (var attempt = 1; ; attempt++)
        {
            var from = snapshot is null ? null : await snapshot(cancellationToken).ConfigureAwait(false);
            var (state, revision, ids) = await LoadAsync(decider, stream, deterministic, from, cancellationToken).ConfigureAwait(false);
            if (ids is not null && ids.Contains(eventId(0)))
                return new CommandResult<TState, TEvent>(state, [], revision, null, WasReplay: true);
            var events = decider.Decide(state, command);
            if (events.Count == 0) return new CommandResult<TState, TEvent>(state, events, revision, null);

            var data = events.Select((e, i) => serializer.Serialize(e!, eventId(i), metadata)).ToList();
            var expected = revision == StreamRevision.None ? ExpectedRevision.NoStream : ExpectedRevision.Exactly(revision);
            try
            {
                var append = await store.AppendToStreamAsync(stream, expected, data, cancellationToken).ConfigureAwait(false);
                var next = events.Aggregate(state, decider.Evolve);
                return new CommandResult<TState, TEvent>(next, events, append.NextExpectedRevision, append);
            }
            catch (WrongExpectedRevisionException) when (attempt < maxAttempts)
            {
                // Someone appended between our read and our write: decide again on the new state.
            }
        }
    }
}
