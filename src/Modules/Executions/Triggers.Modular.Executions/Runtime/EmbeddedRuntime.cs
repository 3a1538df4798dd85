using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Executions.Domain;

namespace Triggers.Modular.Executions.Runtime;

/// <summary>
/// The embedded runtime: runs due work with bounded concurrency. Work arrives two ways — in-process, right after the
/// decision that made it due (no round trip through the database), and from the work table (<see cref="WorkQueueProjection"/>),
/// which a poller claims: other instances' work, back-offs and timers after a restart, anything a crash interrupted.
/// Exclusivity of a step attempt comes from its stream: a worker records <see cref="StepStarted"/> with a lease at the
/// revision it read, so of two workers racing for an attempt exactly one appends, and nobody takes it again before the
/// lease (step timeout + grace) runs out.
/// </summary>
internal sealed partial class EmbeddedRuntime : BackgroundService
{
    private readonly ExecutionStore _store;
    private readonly WorkQueue _queue;
    /// <summary>At most this many inline steps run within one decision (a long chain of <c>set</c> steps is appended in parts).</summary>
    public const int MaxInlineSteps = 32;

    /// <summary>Inline steps stop within one decision once their outputs reach this size, keeping the append bounded.</summary>
    public const int MaxInlineOutputBytes = 1024 * 1024;

    private readonly StepAttempts _attempts;
    private readonly RuntimeOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<EmbeddedRuntime> _logger;
    // Not SingleReader: that reader cannot count, and the queue depth is a metric.
    private readonly Channel<WorkItem> _local = Channel.CreateUnbounded<WorkItem>();
    private readonly SemaphoreSlim _slots;
    private readonly DecisionExtension _runInline;
    private readonly ConcurrentDictionary<(string Execution, string Step), CancellationTokenSource> _running = new();
    private CancellationToken _stopping = CancellationToken.None;
    private volatile bool _draining;
    private long _inFlight;
    private long _tableDepth;

    public EmbeddedRuntime(ExecutionStore store, WorkQueue queue, StepAttempts attempts, RuntimeOptions options, TimeProvider clock,
        ILogger<EmbeddedRuntime> logger)
    {
        _store = store;
        _queue = queue;
        _attempts = attempts;
        _options = options;
        _clock = clock;
        _logger = logger;
        _slots = new SemaphoreSlim(Math.Max(1, options.MaxConcurrency));
        _runInline = RunInlineAsync;
        Worker = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";
        ExecutionMetrics.Observe(() => Interlocked.Read(ref _tableDepth) + _local.Reader.Count, () => Interlocked.Read(ref _inFlight));
    }

    public string Worker { get; }

    public bool Enabled => string.Equals(_options.Mode, "embedded", StringComparison.OrdinalIgnoreCase);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled) return;
        _stopping = stoppingToken;
        var poller = Task.Run(() => PollAsync(stoppingToken), stoppingToken);
        try
        {
            await foreach (var item in _local.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                await _slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                Interlocked.Increment(ref _inFlight);
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await ProcessAsync(item, stoppingToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _inFlight);
                        _slots.Release();
                    }
                }, CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await poller.ConfigureAwait(false);
    }

    /// <summary>Stops taking work, lets running steps finish (and record their outcomes) for up to
    /// <see cref="RuntimeOptions.ShutdownGraceSeconds"/>, then cuts the rest off: their leases run out and they are delivered again.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        var until = Stopwatch.GetTimestamp();
        while (Interlocked.Read(ref _inFlight) > 0 && Stopwatch.GetElapsedTime(until).TotalSeconds < _options.ShutdownGraceSeconds
               && !cancellationToken.IsCancellationRequested)
            await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The one way decisions reach the store: decides, runs the inline steps that makes due (<see cref="RunInlineAsync"/>),
    /// appends (<see cref="ExecutionStore.DecideAsync"/>), then reacts to what was decided (<see cref="OnDecided"/>).
    /// </summary>
    public async Task<DecisionResult?> DecideAsync(string executionId, Func<ExecutionCommand> command, EventMetadata metadata,
        LoadedExecution? current, CancellationToken cancellationToken, ExecutionDecider? decider = null,
        int maxAttempts = ExecutionStore.DefaultMaxAttempts, bool isNew = false)
    {
        var result = await _store.DecideAsync(executionId, command, metadata, decider, current, maxAttempts, isNew,
            Enabled && !_draining ? _runInline : null, cancellationToken).ConfigureAwait(false);
        if (result is not null) OnDecided(result.Events, result.AsLoaded());
        return result;
    }

    /// <summary>Reacts to decided events: due steps go to the local queue, near back-offs, timers and deadlines get local
    /// timers, finished executions stop their running steps here. Safe to call from any decision, on any thread.</summary>
    private void OnDecided(IReadOnlyList<IEvent> events, LoadedExecution? after)
    {
        foreach (var e in events)
        {
            switch (e)
            {
                case ExecutionStarted s:
                    ExecutionMetrics.Started.Add(1);
                    if (s.TimeoutAt is { } due) Later(due, new WorkItem(s.ExecutionId, WorkKinds.Timeout, null, 0));
                    break;
                case ExecutionRetried { TimeoutAt: { } deadline } r:
                    Later(deadline, new WorkItem(r.ExecutionId, WorkKinds.Timeout, null, 0));
                    break;
                // Unless an inline step already ran it in the same decision.
                case StepScheduled s when after is null || after.State.Steps.GetValueOrDefault(s.StepId) is { Status: StepStatus.Scheduled } scheduled
                                          && scheduled.Attempt == s.Attempt:
                    Push(new WorkItem(s.ExecutionId, WorkKinds.Step, s.StepId, s.Attempt, after));
                    break;
                case StepRetryScheduled r:
                    Later(r.DueAt, new WorkItem(r.ExecutionId, WorkKinds.Step, r.StepId, r.NextAttempt));
                    break;
                case StepSleeping s:
                    Later(s.Until, new WorkItem(s.ExecutionId, WorkKinds.Timer, s.StepId, s.Attempt));
                    break;
                case ExecutionCompleted c:
                    ExecutionMetrics.Finished.Add(1, new KeyValuePair<string, object?>("status", "completed"));
                    StopLocal(c.ExecutionId);
                    break;
                case ExecutionFailed f:
                    ExecutionMetrics.Finished.Add(1, new KeyValuePair<string, object?>("status", "failed"));
                    StopLocal(f.ExecutionId);
                    break;
                case ExecutionCancelled c:
                    ExecutionMetrics.Finished.Add(1, new KeyValuePair<string, object?>("status", "cancelled"));
                    StopLocal(c.ExecutionId);
                    break;
            }
        }
    }

    private void Push(WorkItem item)
    {
        if (Enabled) _local.Writer.TryWrite(item);
    }

    private void Later(DateTimeOffset due, WorkItem item)
    {
        if (!Enabled) return;
        var wait = due - _clock.GetUtcNow();
        if (wait <= TimeSpan.Zero)
        {
            Push(item);
            return;
        }

        // Farther work waits in the table only; nearer work also gets a timer here so that it does not wait for a poll.
        if (wait.TotalSeconds > _options.LocalTimerHorizonSeconds) return;
        _ = Task.Delay(wait + TimeSpan.FromMilliseconds(5), _clock, _stopping).ContinueWith(t =>
        {
            if (t.IsCompletedSuccessfully) Push(item);
        }, TaskScheduler.Default);
    }

    private void StopLocal(string executionId)
    {
        foreach (var (key, cts) in _running)
        {
            if (!string.Equals(key.Execution, executionId, StringComparison.Ordinal)) continue;
            try
            {
                cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // finished meanwhile
            }
        }
    }

    private async Task PollAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(Math.Max(0.05, _options.PollIntervalSeconds));
        var lastCount = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var now = _clock.GetUtcNow();
                var free = _slots.CurrentCount - _local.Reader.Count;
                if (free > 0 && !_draining)
                {
                    var claimed = await _queue.ClaimAsync(Worker, Math.Min(free, 256), now, TimeSpan.FromSeconds(_options.ClaimSeconds), stoppingToken)
                        .ConfigureAwait(false);
                    foreach (var item in claimed) _local.Writer.TryWrite(item);
                    if (claimed.Count >= Math.Min(free, 256)) continue; // more may be due: claim again at once
                }

                if (now - lastCount > TimeSpan.FromSeconds(5))
                {
                    Interlocked.Exchange(ref _tableDepth, await _queue.CountAsync(stoppingToken).ConfigureAwait(false));
                    lastCount = now;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogPollFailed(ex);
            }

            try
            {
                await Task.Delay(interval, _clock, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ProcessAsync(WorkItem item, CancellationToken stoppingToken)
    {
        if (_draining) return; // shutting down: the item stays in the work table and is picked up after the restart
        try
        {
            switch (item.Kind)
            {
                case WorkKinds.Step:
                    await RunStepAsync(item, stoppingToken).ConfigureAwait(false);
                    break;
                case WorkKinds.Timer:
                    await DecideDueAsync(item.ExecutionId, () => new ExecutionCommand.Wake(item.StepId!, item.Attempt, _clock.GetUtcNow()), stoppingToken)
                        .ConfigureAwait(false);
                    break;
                case WorkKinds.Timeout:
                    await DecideDueAsync(item.ExecutionId, () => new ExecutionCommand.Timeout(_clock.GetUtcNow()), stoppingToken).ConfigureAwait(false);
                    break;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: the work stays in the table (and the lease, if taken, runs out), so it resumes after a restart.
        }
        catch (Exception ex)
        {
            LogWorkFailed(ex, item.Kind, item.ExecutionId, item.StepId);
        }
    }

    private async Task DecideDueAsync(string executionId, Func<ExecutionCommand> command, CancellationToken cancellationToken)
    {
        var loaded = await _store.LoadAsync(executionId, cancellationToken).ConfigureAwait(false);
        if (loaded is null || loaded.State.IsTerminal) return;
        await DecideAsync(executionId, command, loaded.RuntimeMetadata, loaded, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the steps that a decision made due and whose handlers run inline (<see cref="IStepHandler.RunsInline"/>), in
    /// plan order, deciding their start and outcome on the state the decision left — and again for the steps those outcomes
    /// make due — so that all of it is appended with the decision in one write. Bounded per decision
    /// (<see cref="MaxInlineSteps"/> steps, <see cref="MaxInlineOutputBytes"/> of outputs); what is left goes the usual way.
    /// </summary>
    private async ValueTask<(ExecutionState State, IReadOnlyList<IEvent> Events)> RunInlineAsync(ExecutionDecider decider, ExecutionState state,
        CancellationToken cancellationToken)
    {
        List<IEvent>? added = null;
        long outputBytes = 0;
        for (var count = 0; count < MaxInlineSteps && outputBytes < MaxInlineOutputBytes && !state.IsTerminal; count++)
        {
            var next = NextInline(decider.Plan, state);
            if (next is null) break;
            var (planned, handler, attempt) = next.Value;
            var timeout = _attempts.TimeoutOf(planned);
            var now = _clock.GetUtcNow();
            var begin = decider.Decide(state, new ExecutionCommand.BeginAttempt(planned.Id, attempt, Worker,
                _attempts.LeaseUntil(now, timeout), now));
            if (begin.Count == 0) break;
            state = begin.Aggregate(state, decider.Evolve);
            (added ??= []).AddRange(begin);

            var step = StepAttempts.Context(state, decider.Plan, planned, attempt, now, timeout);
            var started = Stopwatch.GetTimestamp();
            var outcome = await _attempts.InvokeAsync(planned, step, timeout, cancellationToken).ConfigureAwait(false)
                          ?? throw new OperationCanceledException(cancellationToken);
            (outcome, var bytes) = _attempts.CapOutput(outcome);
            outputBytes += bytes;
            Observe(planned.Type, outcome, started);
            var recorded = decider.Decide(state, new ExecutionCommand.RecordOutcome(planned.Id, attempt, outcome, Worker, _clock.GetUtcNow()));
            state = recorded.Aggregate(state, decider.Evolve);
            added.AddRange(recorded);
        }

        return (state, added ?? (IReadOnlyList<IEvent>)[]);
    }

    /// <summary>The first step, in plan order, that is due now and whose handler runs inline.</summary>
    private (PlannedStep Step, IStepHandler Handler, int Attempt)? NextInline(ExecutionPlan plan, ExecutionState state)
    {
        foreach (var planned in plan.Steps)
        {
            if (state.Steps.GetValueOrDefault(planned.Id) is { Status: StepStatus.Scheduled } due
                && _attempts.HandlerFor(planned.Type) is { RunsInline: true } handler)
                return (planned, handler, due.Attempt);
        }

        return null;
    }

    private static void Observe(string stepType, StepOutcome outcome, long started)
    {
        ExecutionMetrics.StepAttempts.Add(1, new TagList { { "step_type", stepType }, { "outcome", OutcomeName(outcome) } });
        ExecutionMetrics.StepDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("step_type", stepType));
    }

    private async Task RunStepAsync(WorkItem item, CancellationToken stoppingToken)
    {
        var loaded = item.Hint ?? await _store.LoadAsync(item.ExecutionId, stoppingToken).ConfigureAwait(false);
        if (loaded is null || loaded.State.IsTerminal || !loaded.State.Steps.TryGetValue(item.StepId!, out var current)) return;
        if (current.IsTerminal || current.Attempt != item.Attempt) return; // stale work: nothing to load a second time for
        var planned = loaded.Decider.Plan.Step(item.StepId!);
        var timeout = _attempts.TimeoutOf(planned);
        var metadata = loaded.RuntimeMetadata;

        var begin = await DecideAsync(item.ExecutionId,
            () => new ExecutionCommand.BeginAttempt(item.StepId!, item.Attempt, Worker, _attempts.LeaseUntil(_clock.GetUtcNow(), timeout), _clock.GetUtcNow()),
            metadata, loaded, stoppingToken).ConfigureAwait(false);
        if (begin is null || begin.Events.Count == 0) return; // someone else holds it, or it is no longer due

        var step = StepAttempts.Context(begin.State, loaded.Decider.Plan, planned, item.Attempt, _clock.GetUtcNow(), timeout);
        using var cancel = new CancellationTokenSource();
        _running[(item.ExecutionId, planned.Id)] = cancel;
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancel.Token, stoppingToken);
        using var watching = new CancellationTokenSource();
        var watch = WatchAsync(item.ExecutionId, planned.Id, item.Attempt, cancel, watching.Token);
        var started = Stopwatch.GetTimestamp();
        StepOutcome? outcome;
        try
        {
            outcome = await _attempts.InvokeAsync(planned, step, timeout, abandon.Token).ConfigureAwait(false);
        }
        finally
        {
            _running.TryRemove(new KeyValuePair<(string, string), CancellationTokenSource>((item.ExecutionId, planned.Id), cancel));
            await watching.CancelAsync().ConfigureAwait(false);
            await watch.ConfigureAwait(false);
        }

        // Abandoned: shutting down (the lease runs out and the attempt is delivered again), or the execution ended meanwhile.
        if (outcome is null) return;
        (outcome, _) = _attempts.CapOutput(outcome);
        Observe(planned.Type, outcome, started);
        await RecordOutcomeAsync(item, planned.Id, outcome, metadata, begin.AsLoaded()).ConfigureAwait(false);
    }

    /// <summary>Records an outcome even while shutting down (its own deadline, not the stopping token), retrying conflicts
    /// with the execution's other steps for as long as needed; an outcome the store refuses (too large) fails the step.</summary>
    private async Task RecordOutcomeAsync(WorkItem item, string stepId, StepOutcome outcome, EventMetadata metadata, LoadedExecution current)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await DecideAsync(item.ExecutionId, () => new ExecutionCommand.RecordOutcome(stepId, item.Attempt, outcome, Worker, _clock.GetUtcNow()),
                metadata, current, deadline.Token, maxAttempts: 500).ConfigureAwait(false);
        }
        catch (InvalidAppendException ex)
        {
            var failed = StepOutcome.NonRetryableError("outcome_not_recorded", $"The step's outcome could not be recorded: {ex.Message}");
            await DecideAsync(item.ExecutionId, () => new ExecutionCommand.RecordOutcome(stepId, item.Attempt, failed, Worker, _clock.GetUtcNow()),
                metadata, null, deadline.Token, maxAttempts: 500).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the local delivery when its execution ends or its attempt is taken over elsewhere (a cancel or timeout
    /// decided on another instance, or a lease that ran out).</summary>
    private async Task WatchAsync(string executionId, string stepId, int attempt, CancellationTokenSource cancel, CancellationToken done)
    {
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(0.1, _options.CancelCheckSeconds)), _clock);
            while (await timer.WaitForNextTickAsync(done).ConfigureAwait(false))
            {
                var loaded = await _store.LoadAsync(executionId, done).ConfigureAwait(false);
                var step = loaded?.State.Steps.GetValueOrDefault(stepId);
                if (loaded is null || loaded.State.IsTerminal || step is null || step.Status != StepStatus.Running || step.Attempt != attempt
                    || step.Attempts.IsEmpty || !string.Equals(step.Attempts[^1].Worker, Worker, StringComparison.Ordinal))
                {
                    await cancel.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the step finished
        }
        catch (Exception ex)
        {
            LogWorkFailed(ex, "watch", executionId, stepId);
        }
    }

    private static string OutcomeName(StepOutcome outcome) => outcome switch
    {
        StepOutcome.Completed => "completed",
        StepOutcome.Sleep => "sleeping",
        StepOutcome.Failed { Retryable: true } => "failed_retryable",
        _ => "failed",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Polling the runtime's work table failed; retrying")]
    private partial void LogPollFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Error, Message = "Runtime work {Kind} for execution {ExecutionId} step {StepId} failed; it stays due and is retried")]
    private partial void LogWorkFailed(Exception ex, string kind, string executionId, string? stepId);
}
