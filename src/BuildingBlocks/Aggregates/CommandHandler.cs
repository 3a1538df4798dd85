using Triggers.Modular.BuildingBlocks.EventStore;

namespace Triggers.Modular.BuildingBlocks.Aggregates;

public sealed record CommandResult<TState, TEvent>(TState State, IReadOnlyList<TEvent> NewEvents, long Revision, AppendResult? Append);

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
        ArgumentNullException.ThrowIfNull(decider);
        var state = decider.Initial;
        var revision = StreamRevision.None;
        while (true)
        {
            var page = await store.ReadStreamAsync(stream, ReadDirection.Forward, revision + 1, PageSize, cancellationToken).ConfigureAwait(false);
            foreach (var e in page)
            {
                state = decider.Evolve(state, (TEvent)serializer.Deserialize(e));
                revision = e.Revision;
            }

            if (page.Count < PageSize) return (state, revision);
        }
    }

    /// <param name="eventId">Id of the i-th new event; derive it from the command's idempotency key to make retries no-ops.
    /// Defaults to a new time-ordered id.</param>
    public async Task<CommandResult<TState, TEvent>> HandleAsync<TState, TCommand, TEvent>(IDecider<TState, TCommand, TEvent> decider,
        string stream, TCommand command, EventMetadata metadata, Func<int, Guid>? eventId = null, int maxAttempts = 1,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decider);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        eventId ??= _ => Guid.CreateVersion7();
        for (var attempt = 1; ; attempt++)
        {
            var (state, revision) = await LoadAsync(decider, stream, cancellationToken).ConfigureAwait(false);
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
