using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Workflows;
using Triggers.Modular.Executions.Contracts;

namespace Triggers.Modular.Temporal.Workflows;

/// <summary>
/// One execution on Temporal (workflow id = execution id; docs/adr/0017). Deterministic: it decides nothing itself. Every
/// decision is the Executions module's decider's, made in an activity (<see cref="ExecutionActivities"/>) that records the
/// events and answers the execution's <see cref="RuntimeView"/>; the workflow only turns that view into Temporal commands —
/// a <c>executions.run_step</c> activity per due step (Temporal retry policy from the step's), a timer to the next back-off,
/// sleep or deadline, a <c>wake</c> or <c>timeout</c> decision when one comes — until the execution is finished. Temporal
/// cancellation is recorded as a cancel. Long runs continue as new before the history grows too long.
/// Changing the order or kind of the commands issued here breaks the replay of running executions: see the replay tests.
/// </summary>
[Workflow("executions.execution")]
internal sealed class ExecutionWorkflow
{
    /// <summary>History length after which the run drains its activities and continues as new (Temporal warns at 10,240 events
    /// and stops at 51,200).</summary>
    internal const int ContinueAsNewAfterEvents = 10_000;

    /// <summary>Signal name: read the execution again before ending (see <see cref="ResyncAsync"/>).</summary>
    internal const string ResyncSignal = "resync";

    private RuntimeView? _view;
    private bool _resync;

    /// <summary>The execution as this run last saw it (null before its first decision).</summary>
    [WorkflowQuery("status")]
    public RuntimeView? Status() => _view;

    /// <summary>The execution changed outside the workflow in a way that may undo an ending (it was retried): a run about to
    /// end on what it last saw reads the execution again first. Sent with the start of a retried execution's workflow,
    /// which signals the run still open instead of starting one.</summary>
    [WorkflowSignal(ResyncSignal)]
    public Task ResyncAsync()
    {
        _resync = true;
        return Task.CompletedTask;
    }

    [WorkflowRun]
    public async Task<string> RunAsync(ExecutionRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var flights = new List<Flight>();
        try
        {
            _resync = false; // the first read comes after any change that asked for it
            _view = await DecideAsync(new DecideRequest(run.ExecutionId, DecideRequest.Sync, -1), Workflow.CancellationToken);
            if (_view is null) return "not_found";
            var holds = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            Task? timer = null;
            DateTimeOffset? timerAt = null;
            CancellationTokenSource? timerCancel = null;
            var draining = false;
            while (true)
            {
                if (_view.IsTerminal && _resync)
                {
                    // What still runs here was stopped by the ending; the retried steps start afresh from the new view.
                    foreach (var flight in flights) flight.Cancel.Cancel();
                    flights.Clear();
                    _resync = false;
                    Apply(await DecideAsync(new DecideRequest(run.ExecutionId, DecideRequest.Sync, _view.Revision), Workflow.CancellationToken));
                    continue;
                }

                if (_view.IsTerminal)
                {
                    foreach (var flight in flights) flight.Cancel.Cancel();
                    return _view.Status;
                }

                draining |= Workflow.ContinueAsNewSuggested || Workflow.CurrentHistoryLength >= run.HistoryLimit;
                if (draining && flights.Count == 0)
                {
                    var next = run with { Trigger = null, Continued = run.Continued + 1 };
                    throw Workflow.CreateContinueAsNewException((ExecutionWorkflow wf) => wf.RunAsync(next));
                }

                var now = Workflow.UtcNow;
                var course = ExecutionCourse.Plan(_view, now, flights.ConvertAll(f => f.StepId), holds);
                if (course.TimeoutDue)
                {
                    Apply(await DecideAsync(new DecideRequest(run.ExecutionId, DecideRequest.Timeout, _view.Revision), Workflow.CancellationToken));
                    if (!_view.IsTerminal) holds[ExecutionCourse.Deadline] = now + ExecutionCourse.Hold;
                    continue;
                }

                if (!draining)
                    foreach (var action in course.Start) flights.Add(Start(run.ExecutionId, action));
                if (course.WakeAt is { } wakeAt && (timerAt is null || wakeAt < timerAt))
                {
                    timerCancel?.Cancel();
                    timerCancel = CancellationTokenSource.CreateLinkedTokenSource(Workflow.CancellationToken);
                    var wait = wakeAt - now;
                    timer = Workflow.DelayAsync(wait > TimeSpan.FromMilliseconds(1) ? wait : TimeSpan.FromMilliseconds(1), timerCancel.Token);
                    timerAt = wakeAt;
                }

                var waits = new List<Task>(flights.Count + 1);
                waits.AddRange(flights.Select(f => f.Task));
                if (timer is not null) waits.Add(timer);
                if (waits.Count == 0)
                {
                    // Nothing active and not finished: only another writer can move it on; look again in a while.
                    await Workflow.DelayAsync(TimeSpan.FromMinutes(1), Workflow.CancellationToken);
                    Apply(await DecideAsync(new DecideRequest(run.ExecutionId, DecideRequest.Sync, _view.Revision), Workflow.CancellationToken));
                    continue;
                }

                var done = await Workflow.WhenAnyAsync(waits);
                if (done == timer)
                {
                    await timer; // a cancelled workflow ends here
                    timer = null;
                    timerAt = null;
                    timerCancel = null;
                    continue;
                }

                foreach (var flight in flights.Where(f => f.Task.IsCompleted).ToList())
                {
                    flights.Remove(flight);
                    Apply(await SettleAsync(run.ExecutionId, flight));
                    if (ExecutionCourse.Moved(flight.Before, _view, flight.StepId)) holds.Remove(flight.StepId);
                    else holds[flight.StepId] = Workflow.UtcNow + ExecutionCourse.Hold;
                }
            }
        }
        catch (Exception) when (Workflow.CancellationToken.IsCancellationRequested)
        {
            // Cancelled through Temporal (the cancel endpoint decides the cancel first, then cancels the workflow; a cancel made
            // in Temporal itself is recorded here). The decision runs on a token of its own, not the cancelled one.
            using var detached = new CancellationTokenSource();
            var cancel = new DecideRequest(run.ExecutionId, DecideRequest.Cancel, _view?.Revision ?? -1, Reason: "cancelled through Temporal");
            Apply(await DecideAsync(cancel, detached.Token));
            // Whatever ended the loop (an activity's failure, continuing as new), the workflow ends as cancelled.
            throw new OperationCanceledException("The workflow was cancelled.", Workflow.CancellationToken);
        }
    }

    private void Apply(RuntimeView? view)
    {
        if (view is not null && (_view is null || view.Revision >= _view.Revision)) _view = view;
    }

    private Flight Start(string executionId, StepAction action)
    {
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(Workflow.CancellationToken);
        var view = _view!;
        if (action.Kind == StepAction.Wake)
            return new Flight(action.StepId, DecideAsync(new DecideRequest(executionId, DecideRequest.Wake, view.Revision, action.StepId, action.Attempt), cancel.Token),
                cancel, view);
        var step = view.ActiveSteps.First(s => s.StepId == action.StepId);
        var request = new RunStepRequest(executionId, action.StepId, action.Attempt, view.Revision);
        return new Flight(action.StepId, Workflow.ExecuteActivityAsync((ExecutionActivities a) => a.RunStepAsync(request), StepOptions(step, cancel.Token)),
            cancel, view);
    }

    /// <summary>A finished activity's view; a step that failed carries it in the failure's details (the failure is what
    /// Temporal's retry policy sees); without one (the activity timed out, its retries ran out) the view is read again.</summary>
    private static async Task<RuntimeView?> SettleAsync(string executionId, Flight flight)
    {
        try
        {
            return await flight.Task;
        }
        catch (ActivityFailureException e) when (!Workflow.CancellationToken.IsCancellationRequested)
        {
            if (e.InnerException is ApplicationFailureException { Details.Count: > 0 } failure)
                return failure.Details.ElementAt<RuntimeView?>(0);
            return await DecideAsync(new DecideRequest(executionId, DecideRequest.Sync, flight.Before.Revision), Workflow.CancellationToken);
        }
    }

    private static Task<RuntimeView?> DecideAsync(DecideRequest request, CancellationToken cancellationToken) =>
        Workflow.ExecuteActivityAsync((ExecutionActivities a) => a.DecideAsync(request), new ActivityOptions
        {
            StartToCloseTimeout = TimeSpan.FromMinutes(1),
            RetryPolicy = new RetryPolicy
            {
                InitialInterval = TimeSpan.FromSeconds(1),
                BackoffCoefficient = 2,
                MaximumInterval = TimeSpan.FromMinutes(1),
                NonRetryableErrorTypes = [ExecutionActivities.UnknownCommand],
            },
            CancellationToken = cancellationToken,
        });

    /// <summary>A step's activity: Temporal retries it as the step's retry policy says (the attempts left, the back-off, the
    /// non-retryable error codes), within the step's lease (its timeout and the grace), heartbeating so that a cancel reaches it.</summary>
    internal static ActivityOptions StepOptions(RuntimeStep step, CancellationToken cancellationToken)
    {
        var initial = TimeSpan.FromSeconds(Math.Max(0.001, step.Retry.InitialIntervalSeconds));
        var maximum = TimeSpan.FromSeconds(step.Retry.MaxIntervalSeconds);
        return new ActivityOptions
        {
            StartToCloseTimeout = TimeSpan.FromSeconds(step.LeaseSeconds) + ExecutionActivities.LeaseSlack,
            HeartbeatTimeout = ExecutionActivities.HeartbeatTimeout,
            RetryPolicy = new RetryPolicy
            {
                MaximumAttempts = Math.Max(1, step.AttemptsLeft),
                InitialInterval = initial,
                BackoffCoefficient = (float)Math.Max(1, step.Retry.BackoffCoefficient),
                MaximumInterval = maximum > initial ? maximum : initial,
                NonRetryableErrorTypes = [.. step.Retry.NonRetryableErrors],
            },
            CancellationToken = cancellationToken,
        };
    }

    private sealed record Flight(string StepId, Task<RuntimeView?> Task, CancellationTokenSource Cancel, RuntimeView Before);
}
