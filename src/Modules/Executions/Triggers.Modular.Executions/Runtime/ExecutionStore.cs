using System.Collections.Concurrent;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.Domain;

namespace Triggers.Modular.Executions.Runtime;

/// <summary>An execution folded from its stream, with the decider of its pinned definition version.</summary>
internal sealed record LoadedExecution(ExecutionState State, long Revision, ExecutionDecider Decider, string? CorrelationId)
{
    /// <summary>The metadata of the events a runtime records on this execution (actor <c>runtime</c>, caused by the execution).</summary>
    public EventMetadata RuntimeMetadata => new(State.TenantId, State.Environment, "runtime", CorrelationId, State.Id);
}

/// <summary>The outcome of one decision: the events appended (empty when the command decided nothing) and the state after.</summary>
internal sealed record DecisionResult(ExecutionState State, IReadOnlyList<IEvent> Events, ExecutionDecider Decider, long Revision,
    string? CorrelationId)
{
    /// <summary>The state after the decision, as a load would return it (for a next decision without a reload).</summary>
    public LoadedExecution AsLoaded() => new(State, Revision, Decider, CorrelationId);
}

/// <summary>Definition versions compiled into plans. Versions never change once written, so entries never go stale.</summary>
internal sealed class PlanCache(IDefinitionsModule definitions)
{
    private const int MaxEntries = 10_000;
    private readonly ConcurrentDictionary<(string, int), ExecutionPlan> _plans = new();

    public async Task<ExecutionPlan?> GetAsync(string tenantId, string environment, string workflowId, int version, CancellationToken cancellationToken)
    {
        if (_plans.TryGetValue((workflowId, version), out var plan)) return plan;
        var definition = await definitions.GetVersionAsync(tenantId, environment, workflowId, version, cancellationToken).ConfigureAwait(false);
        if (definition is null) return null;
        plan = ExecutionPlan.From(workflowId, version, definition.Definition);
        if (_plans.Count >= MaxEntries) _plans.Clear();
        _plans[(workflowId, version)] = plan;
        return plan;
    }

    /// <summary>Only for a definition checked to belong to the tenant × environment by the caller.</summary>
    public ExecutionPlan Add(DefinitionDto definition)
    {
        if (_plans.TryGetValue((definition.Id, definition.Version), out var cached)) return cached;
        var plan = ExecutionPlan.From(definition.Id, definition.Version, definition.Definition);
        if (_plans.Count >= MaxEntries) _plans.Clear();
        return _plans.GetOrAdd((definition.Id, definition.Version), plan);
    }
}

/// <summary>Decisions added to a decision before its append, from the state after it: returns the state after them and
/// the events they decided (none to add nothing).</summary>
internal delegate ValueTask<(ExecutionState State, IReadOnlyList<IEvent> Events)> DecisionExtension(ExecutionDecider decider, ExecutionState state,
    CancellationToken cancellationToken);

/// <summary>
/// Load–decide–append for executions. The stream's first event names the pinned definition version, whose plan gives
/// the decider; a concurrency conflict (another step of the same execution finished at the same moment) reloads and
/// decides again — every execution command is safe to re-decide.
/// </summary>
internal sealed class ExecutionStore(IEventStore store, EventSerializer serializer, PlanCache plans)
{
    private const int PageSize = 500;
    public const int DefaultMaxAttempts = 20;

    public async Task<LoadedExecution?> LoadAsync(string executionId, CancellationToken cancellationToken)
    {
        var stream = ExecutionEventTypes.StreamFor(executionId);
        ExecutionDecider? decider = null;
        var state = ExecutionState.Initial;
        var revision = StreamRevision.None;
        string? correlation = null;
        while (true)
        {
            var page = await store.ReadStreamAsync(stream, ReadDirection.Forward, revision + 1, PageSize, cancellationToken).ConfigureAwait(false);
            foreach (var e in page)
            {
                var @event = (IEvent)serializer.Deserialize(e);
                if (decider is null)
                {
                    if (@event is not ExecutionStarted started)
                        throw new InvalidOperationException($"Stream {stream} does not begin with {ExecutionEventTypes.Started}.");
                    var plan = await plans.GetAsync(started.TenantId, started.Environment, started.WorkflowId, started.WorkflowVersion, cancellationToken)
                        .ConfigureAwait(false) ?? throw new InvalidOperationException(
                            $"Execution {executionId} is pinned to {started.WorkflowId} version {started.WorkflowVersion}, which cannot be read.");
                    decider = new ExecutionDecider(plan);
                    correlation = e.Metadata.CorrelationId;
                }

                state = decider.Evolve(state, @event);
                revision = e.Revision;
            }

            if (page.Count < PageSize) break;
        }

        return decider is null ? null : new LoadedExecution(state, revision, decider, correlation);
    }

    /// <summary>Decides <paramref name="command"/> on the current state and appends. <paramref name="decider"/> is needed
    /// only for a start (the stream is still empty). <paramref name="current"/>: a state already loaded, tried first (a
    /// conflict means it was stale, and the stream is read again).</summary>
    /// <param name="isNew">The caller has just read the stream and found it empty: the first attempt skips the read.</param>
    /// <param name="extend">Runs after the command's decision, before the append, with the state after it; the decisions it
    /// returns are appended in the same write (the runtime's inline steps).</param>
    public async Task<DecisionResult?> DecideAsync(string executionId, Func<ExecutionCommand> command, EventMetadata metadata,
        ExecutionDecider? decider = null, LoadedExecution? current = null, int maxAttempts = DefaultMaxAttempts,
        bool isNew = false, DecisionExtension? extend = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var stream = ExecutionEventTypes.StreamFor(executionId);
        for (var attempt = 1; ; attempt++)
        {
            var loaded = attempt == 1 && (current is not null || isNew) ? current : await LoadAsync(executionId, cancellationToken).ConfigureAwait(false);
            var d = loaded?.Decider ?? decider;
            if (d is null) return null;
            var state = loaded?.State ?? d.Initial;
            IReadOnlyList<IEvent> events = d.Decide(state, command());
            if (events.Count == 0) return new DecisionResult(state, events, d, loaded?.Revision ?? StreamRevision.None, loaded?.CorrelationId);
            var after = events.Aggregate(state, d.Evolve);
            if (extend is not null)
            {
                var (extended, more) = await extend(d, after, cancellationToken).ConfigureAwait(false);
                if (more.Count > 0)
                {
                    events = [.. events, .. more];
                    after = extended;
                }
            }

            // Time-ordered ids, not ones derived from the command: every execution command is safe to decide again, so a
            // repeated decision needs no replay detection — it conflicts, reloads and decides nothing.
            var data = events.Select(e => serializer.Serialize(e, Guid.CreateVersion7(), metadata)).ToList();
            var expected = loaded is null ? ExpectedRevision.NoStream : ExpectedRevision.Exactly(loaded.Revision);
            try
            {
                var append = await store.AppendToStreamAsync(stream, expected, data, cancellationToken).ConfigureAwait(false);
                return new DecisionResult(after, events, d, append.NextExpectedRevision, loaded?.CorrelationId ?? metadata.CorrelationId);
            }
            catch (WrongExpectedRevisionException) when (attempt < maxAttempts)
            {
                // Another decision on this execution landed first: decide again on the new state.
                if (attempt > 2) await Task.Delay(Random.Shared.Next(1, 5 * Math.Min(attempt, 40)), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
