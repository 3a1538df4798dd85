using Temporalio.Activities;
using Temporalio.Exceptions;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.Contracts.Steps;

namespace Triggers.Modular.Temporal.Workflows;

/// <summary>
/// The workflow's activities: each asks the Executions module (<see cref="IExecutionRuntimePort"/>) for one decision or one
/// step attempt, which records the events exactly as the embedded runtime would, and answers the execution's view. Calling
/// one again (Temporal retries it when its answer was lost) decides nothing more and answers the same view.
/// </summary>
internal sealed class ExecutionActivities(IExecutionRuntimePort port, TimeProvider clock)
{
    /// <summary>Error type of a decision the activity does not know (not retried).</summary>
    public const string UnknownCommand = "unknown_command";

    /// <summary>Error type of a step attempt that was not due yet (another worker's lease, a back-off not over): Temporal
    /// tries again when it is.</summary>
    public const string StepNotDue = "step_not_due";

    /// <summary>A step activity's timeout is the step's lease plus this: the lease is over when Temporal gives the attempt up,
    /// so its next try is delivered at once.</summary>
    public static readonly TimeSpan LeaseSlack = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The longest an attempt waits in the activity for its turn; longer, it fails with <see cref="StepNotDue"/> and a
    /// retry delay.</summary>
    public static readonly TimeSpan MaxWaitForTurn = TimeSpan.FromSeconds(30);

    [Activity("executions.decide")]
    public async Task<RuntimeView?> DecideAsync(DecideRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        RuntimeCommand? command = request.Command switch
        {
            DecideRequest.Sync => null,
            DecideRequest.Wake => new RuntimeCommand.Wake(request.StepId ?? "", request.Attempt),
            DecideRequest.Timeout => new RuntimeCommand.Timeout(),
            DecideRequest.Cancel => new RuntimeCommand.Cancel(request.Reason),
            _ => throw new ApplicationFailureException($"Unknown decision '{request.Command}'.", UnknownCommand, nonRetryable: true),
        };
        var sync = await port.DecideAsync(request.ExecutionId, command, request.KnownRevision, CancellationTokenOf()).ConfigureAwait(false);
        return sync?.View;
    }

    /// <summary>
    /// Runs the step's due attempt (<see cref="IExecutionRuntimePort.RunDueStepAsync"/>). A failed attempt fails the activity
    /// with the step's error code as its type, so Temporal's retry policy sees it: retryable with the back-off the decider
    /// recorded (<c>nextRetryDelay</c> to <c>StepRetryScheduled.DueAt</c>), or not retryable when it failed the execution;
    /// the failure's details carry the view. An attempt not yet due waits here up to <see cref="MaxWaitForTurn"/>.
    /// </summary>
    [Activity("executions.run_step")]
    public async Task<RuntimeView?> RunStepAsync(RunStepRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var context = ActivityExecutionContext.HasCurrent ? ActivityExecutionContext.Current : null;
        var worker = context is null ? $"temporal:{request.ExecutionId}:{request.StepId}"
            : $"temporal:{context.Info.WorkflowRunId}:{context.Info.ActivityId}#{context.Info.Attempt}";
        var cancellationToken = CancellationTokenOf();
        using var heartbeats = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var beating = context is null ? Task.CompletedTask : HeartbeatAsync(context, heartbeats.Token);
        try
        {
            while (true)
            {
                var run = await port.RunDueStepAsync(request.ExecutionId, request.StepId, worker, request.KnownRevision, cancellationToken).ConfigureAwait(false);
                if (run is null) return null;
                if (run.NotBefore is { } notBefore)
                {
                    var wait = notBefore - clock.GetUtcNow();
                    if (wait > TimeSpan.Zero && wait > WaitBudget(context, run.Sync.View, request.StepId))
                        throw new ApplicationFailureException($"Step '{request.StepId}' is not due before {notBefore:O}.", StepNotDue,
                            details: [run.Sync.View], nextRetryDelay: wait);
                    await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(1), clock, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var view = run.Sync.View;
                if (run.Outcome is StepOutcome.Failed failed)
                {
                    var step = view.ActiveSteps.FirstOrDefault(s => s.StepId == request.StepId);
                    if (step is { Status: "retry_waiting", DueAt: { } due })
                    {
                        var delay = due - clock.GetUtcNow();
                        throw new ApplicationFailureException(failed.Message, failed.Code, nonRetryable: false, details: [view],
                            nextRetryDelay: delay > TimeSpan.FromMilliseconds(1) ? delay : TimeSpan.FromMilliseconds(1));
                    }

                    if (view.Status == "failed")
                        throw new ApplicationFailureException(failed.Message, failed.Code, nonRetryable: true, details: [view]);
                }

                return view;
            }
        }
        finally
        {
            await heartbeats.CancelAsync().ConfigureAwait(false);
            await beating.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>How long this try may wait for its turn: at most <see cref="MaxWaitForTurn"/>, and no longer than leaves the
    /// step's whole lease (the attempt's timeout and grace) inside the activity's start-to-close timeout.</summary>
    private TimeSpan WaitBudget(ActivityExecutionContext? context, RuntimeView view, string stepId)
    {
        if (context?.Info.StartToCloseTimeout is not { } startToClose || view.ActiveSteps.FirstOrDefault(s => s.StepId == stepId) is not { } step)
            return MaxWaitForTurn;
        var left = startToClose - (clock.GetUtcNow() - new DateTimeOffset(context.Info.StartedTime, TimeSpan.Zero)) - TimeSpan.FromSeconds(step.LeaseSeconds);
        return left < MaxWaitForTurn ? left : MaxWaitForTurn;
    }

    private static CancellationToken CancellationTokenOf() =>
        ActivityExecutionContext.HasCurrent ? ActivityExecutionContext.Current.CancellationToken : CancellationToken.None;

    /// <summary>Heartbeats while the attempt runs: Temporal delivers a cancel to an activity only through its heartbeats.</summary>
    private static async Task HeartbeatAsync(ActivityExecutionContext context, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            context.Heartbeat();
            await Task.Delay(HeartbeatTimeout / 3, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
