using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Testing;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Temporal.Workflows;

namespace Triggers.Modular.Temporal.Tests;

/// <summary>
/// Plays Temporal for <see cref="ExecutionWorkflow"/> without a server: the test's model of the workflow — the same planning
/// (<see cref="ExecutionCourse"/>), the same activities (<see cref="ExecutionActivities"/>, run for real against a host's
/// Executions module), Temporal's retries of a failed activity as its retry policy says — recording, as it goes, the history
/// a server would record. Replaying that history with the real workflow code (<c>WorkflowReplayer</c>) then shows the
/// workflow issues exactly these commands; the events the activities recorded show what the execution became.
/// </summary>
internal sealed class WorkflowDriver
{
    public const string TaskQueue = "triggers-executions";
    private readonly ExecutionActivities _activities;
    private readonly HistoryBuilder _history;
    private readonly List<Op> _open = [];
    private readonly TaskCompletionSource _cancel = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _executionId;
    private int _activityIds;
    private int _timerIds;
    private DateTimeOffset _now;
    private bool _resync;
    private Func<Task<bool>>? _beforeEnd;

    public WorkflowDriver(ExecutionActivities activities, string executionId)
    {
        _activities = activities;
        _executionId = executionId;
        _history = new HistoryBuilder("executions.execution", TaskQueue, executionId);
    }

    public ExecutionActivities Activities => _activities;

    /// <summary>The runs this one continued as new into (filled by the test; the first is this one).</summary>
    public List<WorkflowDriver> Runs { get; } = [];

    /// <summary>Every activity scheduled, with its argument, in order.</summary>
    public List<(string Type, object Argument)> Scheduled { get; } = [];

    /// <summary>How many times Temporal ran each step activity (its attempts), by activity id.</summary>
    public Dictionary<string, int> Attempts { get; } = [];

    public bool CancelRequested { get; private set; }

    /// <summary>The timers the workflow started, with their durations, in order.</summary>
    public List<TimeSpan> Timers { get; } = [];

    /// <summary>The next run's input when this one continued as new (result <c>continued</c>).</summary>
    public ExecutionRun? Next { get; private set; }

    /// <summary>The first time an activity answers that the execution has ended, <paramref name="beforeEnd"/> runs before the
    /// workflow sees it; when it answers true (it retried the execution), the dispatcher's resync signal arrives first.</summary>
    public void BeforeEnd(Func<Task<bool>> beforeEnd) => _beforeEnd = beforeEnd;

    /// <summary>Called by the test when it cancels the workflow (as the cancel endpoint's dispatcher would).</summary>
    public void RequestCancel() => _cancel.TrySetResult();

    public Temporalio.Common.WorkflowHistory WorkflowHistory => _history.Build();

    private sealed class Op
    {
        public required string Kind { get; init; }
        public required string Id { get; init; }
        public required long EventId { get; init; }
        public Task<RuntimeView?>? Work { get; set; }
        public ActivityEnvironment? Environment { get; set; }
        public DateTimeOffset Due { get; init; }
        public bool Done { get; set; }

        public string? StepId { get; init; }

        public bool Killed { get; set; }
    }

    /// <summary>The worker running step <paramref name="stepId"/>'s activity dies: its attempt is abandoned (no outcome
    /// recorded) and Temporal, seeing the activity time out, tries it again.</summary>
    public void Kill(string stepId)
    {
        var op = _open.First(o => o.StepId == stepId);
        op.Killed = true;
        op.Environment!.Cancel();
    }

    /// <summary>Runs the workflow's course for <paramref name="run"/> to its end; returns how it ended (the workflow's result,
    /// or <c>cancelled</c> when it ended as Temporal-cancelled).</summary>
    public async Task<string> RunAsync(ExecutionRun run, TimeSpan limit, bool resyncSignal = false)
    {
        using var deadline = new CancellationTokenSource(limit);
        _now = DateTimeOffset.UtcNow;
        _history.Started(run, _now);
        if (resyncSignal) _history.Signaled(ExecutionWorkflow.ResyncSignal, _now); // signal-with-start (a retried execution)
        _history.WorkflowTask(_now);
        _resync = false; // signals of the first task are handled before the run begins; it clears them before its first read
        RuntimeView? view = null;
        var flights = new List<(string StepId, Op Op, RuntimeView Before)>();
        try
        {
            view = await DecideAsync(new DecideRequest(run.ExecutionId, DecideRequest.Sync, -1));
            if (view is null) return Complete("not_found");
            var holds = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            Op? timer = null;
            DateTimeOffset? timerAt = null;
            var draining = false;
            while (true)
            {
                deadline.Token.ThrowIfCancellationRequested();
                if (view.IsTerminal && _resync)
                {
                    foreach (var flight in flights) CancelActivity(flight.Op);
                    flights.Clear();
                    _resync = false;
                    view = Newer(view, await DecideAsync(new DecideRequest(run.ExecutionId, DecideRequest.Sync, view.Revision)));
                    continue;
                }

                if (view.IsTerminal)
                {
                    foreach (var flight in flights) CancelActivity(flight.Op);
                    return Complete(view.Status);
                }

                draining |= _history.LastTaskStarted >= run.HistoryLimit;
                if (draining && flights.Count == 0)
                {
                    Next = run with { Trigger = null, Continued = run.Continued + 1 };
                    _history.ContinuedAsNew(Next, _now);
                    return "continued";
                }

                var now = _now;
                var course = ExecutionCourse.Plan(view, now, flights.ConvertAll(f => f.StepId), holds);
                if (course.TimeoutDue)
                {
                    view = Newer(view, await DecideAsync(new DecideRequest(run.ExecutionId, DecideRequest.Timeout, view.Revision)));
                    if (!view.IsTerminal) holds[ExecutionCourse.Deadline] = now + ExecutionCourse.Hold;
                    continue;
                }

                if (!draining)
                    foreach (var action in course.Start) flights.Add((action.StepId, Start(run.ExecutionId, action, view), view));
                if (course.WakeAt is { } wakeAt && (timerAt is null || wakeAt < timerAt))
                {
                    if (timer is not null) CancelTimer(timer);
                    var wait = wakeAt - now;
                    timer = Timer(wait > TimeSpan.FromMilliseconds(1) ? wait : TimeSpan.FromMilliseconds(1));
                    timerAt = wakeAt;
                }

                if (flights.Count == 0 && timer is null) throw new InvalidOperationException("The course waits for nothing (not modelled).");
                var current = timer;
                await WaitAsync(() => flights.Any(f => f.Op.Done) || current is { Done: true });
                if (CancelRequested) throw new OperationCanceledException();
                if (current is { Done: true } && !flights.Any(f => f.Op.Done))
                {
                    timer = null;
                    timerAt = null;
                    continue;
                }

                foreach (var flight in flights.Where(f => f.Op.Done).ToList())
                {
                    flights.Remove(flight);
                    view = Newer(view, await SettleAsync(run.ExecutionId, flight.Op, flight.Before));
                    if (ExecutionCourse.Moved(flight.Before, view, flight.StepId)) holds.Remove(flight.StepId);
                    else holds[flight.StepId] = _now + ExecutionCourse.Hold;
                }
            }
        }
        catch (Exception) when (CancelRequested)
        {
            var cancel = new DecideRequest(run.ExecutionId, DecideRequest.Cancel, view?.Revision ?? -1, Reason: "cancelled through Temporal");
            var op = Activity("executions.decide", cancel, () => _activities.DecideAsync(cancel), null);
            await WaitAsync(() => op.Done);
            _history.Canceled(_now);
            return "cancelled";
        }
    }

    private static RuntimeView Newer(RuntimeView current, RuntimeView? next) => next is not null && next.Revision >= current.Revision ? next : current;

    private string Complete(string result)
    {
        _history.Completed(result, _now);
        return result;
    }

    private async Task<RuntimeView?> DecideAsync(DecideRequest request)
    {
        var op = Activity("executions.decide", request, () => _activities.DecideAsync(request), null);
        await WaitAsync(() => op.Done);
        if (CancelRequested) throw new OperationCanceledException();
        return await op.Work!;
    }

    private Op Start(string executionId, StepAction action, RuntimeView view)
    {
        if (action.Kind == StepAction.Wake)
        {
            var wake = new DecideRequest(executionId, DecideRequest.Wake, view.Revision, action.StepId, action.Attempt);
            return Activity("executions.decide", wake, () => _activities.DecideAsync(wake), null);
        }

        var step = view.ActiveSteps.First(s => s.StepId == action.StepId);
        var request = new RunStepRequest(executionId, action.StepId, action.Attempt, view.Revision);
        var options = ExecutionWorkflow.StepOptions(step, CancellationToken.None);
        return Activity("executions.run_step", request, () => _activities.RunStepAsync(request), options.RetryPolicy, action.StepId,
            options.StartToCloseTimeout);
    }

    private async Task<RuntimeView?> SettleAsync(string executionId, Op op, RuntimeView before)
    {
        try
        {
            return await op.Work!;
        }
        catch (ApplicationFailureException e) when (e.Details.Count > 0)
        {
            return e.Details.ElementAt<RuntimeView?>(0);
        }
        catch (Exception) when (!CancelRequested)
        {
            return await DecideAsync(new DecideRequest(executionId, DecideRequest.Sync, before.Revision));
        }
    }

    /// <summary>Schedules an activity (a command of the current workflow task) and runs it as Temporal would: attempt after
    /// attempt while it fails retryably, within <paramref name="retry"/>.</summary>
    private Op Activity(string type, object argument, Func<Task<RuntimeView?>> work, RetryPolicy? retry, string? stepId = null,
        TimeSpan? startToClose = null)
    {
        var id = (++_activityIds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Scheduled.Add((type, argument));
        var eventId = _history.ScheduleActivity(id, type, argument, _now);
        var op = new Op { Kind = "activity", Id = id, EventId = eventId, StepId = stepId };
        async Task<RuntimeView?> AttemptsAsync()
        {
            await Task.Yield();
            for (var attempt = 1; ; attempt++)
            {
                Attempts[id] = attempt;
                var environment = new ActivityEnvironment
                {
                    Info = ActivityEnvironment.DefaultInfo with
                    {
                        ActivityId = id, ActivityType = type, Attempt = attempt, WorkflowId = _executionId, WorkflowRunId = "run-1",
                        StartedTime = DateTime.UtcNow, StartToCloseTimeout = startToClose,
                    },
                };
                op.Environment = environment;
                try
                {
                    return await environment.RunAsync(work);
                }
                catch (Exception) when (op.Killed && retry is not null && (retry.MaximumAttempts == 0 || attempt < retry.MaximumAttempts))
                {
                    op.Killed = false; // Temporal's next try, after the activity's timeout
                    await Task.Delay(retry.InitialInterval);
                }
                catch (ApplicationFailureException e) when (retry is not null && !e.NonRetryable
                    && !(retry.NonRetryableErrorTypes?.Contains(e.ErrorType ?? "") ?? false)
                    && (retry.MaximumAttempts == 0 || attempt < retry.MaximumAttempts))
                {
                    await Task.Delay(e.NextRetryDelay ?? retry.InitialInterval);
                }
            }
        }

        op.Work = AttemptsAsync();
        _open.Add(op);
        return op;
    }

    private Op Timer(TimeSpan after)
    {
        var id = (++_timerIds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Timers.Add(after);
        var op = new Op { Kind = "timer", Id = id, EventId = _history.StartTimer(id, after, _now), Due = _now + after };
        _open.Add(op);
        return op;
    }

    private void CancelTimer(Op timer)
    {
        if (timer.Done) return;
        _history.CancelTimer(timer.Id, timer.EventId, _now);
        timer.Done = true;
        _open.Remove(timer);
    }

    private void CancelActivity(Op activity)
    {
        if (activity.Done) return;
        _history.RequestCancelActivity(activity.EventId, _now);
        activity.Environment?.Cancel();
        activity.Done = true;
        _open.Remove(activity);
    }

    /// <summary>Ends the current workflow task, then records what happens — an activity finishing, a timer firing, the cancel
    /// request — each followed by a new workflow task, until <paramref name="until"/> holds.</summary>
    private async Task WaitAsync(Func<bool> until)
    {
        while (!until())
        {
            var activities = _open.Where(o => o.Kind == "activity").ToList();
            var timer = _open.Where(o => o.Kind == "timer").OrderBy(o => o.Due).FirstOrDefault();
            var waits = activities.Select(a => (Task)a.Work!).ToList();
            var delay = timer is null ? null : Task.Delay(Max(timer.Due - DateTimeOffset.UtcNow, TimeSpan.Zero));
            if (delay is not null) waits.Add(delay);
            if (!CancelRequested) waits.Add(_cancel.Task);
            var done = await Task.WhenAny(waits).WaitAsync(TimeSpan.FromSeconds(60));
            _now = DateTimeOffset.UtcNow;
            if (done == _cancel.Task)
            {
                CancelRequested = true;
                _history.CancelRequested(_now);
                _history.WorkflowTask(_now);
                // The workflow's cancellation token reaches every activity and timer started on it.
                foreach (var op in _open.ToList())
                    if (op.Kind == "activity") CancelActivity(op);
                    else CancelTimer(op);
                return;
            }

            if (done == delay)
            {
                while (DateTimeOffset.UtcNow < timer!.Due) await Task.Delay(1); // a server fires a timer at its time, never before
                _now = DateTimeOffset.UtcNow;
                timer.Done = true;
                _open.Remove(timer);
                _history.FireTimer(timer.Id, timer.EventId, _now);
                _history.WorkflowTask(_now);
                continue;
            }

            var finished = activities.First(a => a.Work!.IsCompleted);
            finished.Done = true;
            _open.Remove(finished);
            var work = finished.Work!;
            RuntimeView? answered = null;
            if (work.IsCompletedSuccessfully)
            {
                _history.CompleteActivity(finished.EventId, work.Result, _now);
                answered = work.Result;
            }
            else if (work.Exception?.InnerException is ApplicationFailureException failure)
            {
                answered = failure.Details.Count > 0 ? failure.Details.ElementAt<RuntimeView?>(0) : null;
                _history.FailActivity(finished.EventId, failure.ErrorType ?? "", failure.Message, failure.NonRetryable, answered, _now);
            }
            else if (finished.Killed) _history.TimeOutActivity(finished.EventId, _now); // its last try's worker died: it timed out
            else throw new InvalidOperationException($"Activity {finished.Id} failed unexpectedly.", work.Exception);
            if (answered is { IsTerminal: true } && _beforeEnd is { } beforeEnd)
            {
                _beforeEnd = null;
                if (await beforeEnd())
                {
                    _history.Signaled(ExecutionWorkflow.ResyncSignal, _now);
                    _resync = true;
                }
            }

            _history.WorkflowTask(_now);
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
