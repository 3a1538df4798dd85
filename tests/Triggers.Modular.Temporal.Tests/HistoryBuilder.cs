using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Failure.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.Sdk.V1;
using Temporalio.Api.TaskQueue.V1;
using Temporalio.Common;
using Temporalio.Converters;

namespace Triggers.Modular.Temporal.Tests;

/// <summary>
/// Writes a Temporal workflow history event by event, as a server records one (docs/research/issue-10-temporal-brief.md §3):
/// the commands a workflow task produced follow its <c>WorkflowTaskCompleted</c>, each completion is followed by a new workflow
/// task. The first <c>WorkflowTaskCompleted</c> carries the SDK flags a current worker writes — without them the replayer
/// checks less (activity types and ids are not compared).
/// </summary>
internal sealed class HistoryBuilder(string workflowType, string taskQueue, string workflowId)
{
    private static readonly Payload NoDetails = DataConverter.Default.PayloadConverter.ToPayload(null);
    private readonly List<HistoryEvent> _events = [];
    private long _lastTaskCompleted;
    private bool _flagged;

    public IReadOnlyList<HistoryEvent> Events => _events;

    /// <summary>The id of the last <c>WorkflowTaskStarted</c>: the history length the workflow sees while that task runs.</summary>
    public long LastTaskStarted { get; private set; }

    private static Payloads Payloads(params object?[] values)
    {
        var payloads = new Payloads();
        foreach (var value in values) payloads.Payloads_.Add(DataConverter.Default.PayloadConverter.ToPayload(value));
        return payloads;
    }

    private long Add(EventType type, DateTimeOffset at, Action<HistoryEvent> fill)
    {
        var e = new HistoryEvent { EventId = _events.Count + 1, EventTime = Timestamp.FromDateTimeOffset(at), EventType = type };
        fill(e);
        _events.Add(e);
        return e.EventId;
    }

    private TaskQueue Queue => new() { Name = taskQueue, Kind = TaskQueueKind.Normal };

    public void Started(object input, DateTimeOffset at) => Add(EventType.WorkflowExecutionStarted, at, e =>
        e.WorkflowExecutionStartedEventAttributes = new()
        {
            WorkflowType = new WorkflowType { Name = workflowType },
            TaskQueue = Queue,
            Input = Payloads(input),
            WorkflowTaskTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)),
            OriginalExecutionRunId = "run-1",
            FirstExecutionRunId = "run-1",
            Attempt = 1,
            WorkflowId = workflowId,
        });

    /// <summary>A workflow task (scheduled, started at <paramref name="at"/> — the workflow's time while it runs —, completed).</summary>
    public void WorkflowTask(DateTimeOffset at)
    {
        var scheduled = Add(EventType.WorkflowTaskScheduled, at, e => e.WorkflowTaskScheduledEventAttributes = new()
        {
            TaskQueue = Queue,
            StartToCloseTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)),
            Attempt = 1,
        });
        var started = Add(EventType.WorkflowTaskStarted, at, e => e.WorkflowTaskStartedEventAttributes = new()
        {
            ScheduledEventId = scheduled,
            Identity = "history-builder",
            RequestId = $"request-{scheduled}",
        });
        LastTaskStarted = started;
        _lastTaskCompleted = Add(EventType.WorkflowTaskCompleted, at, e => e.WorkflowTaskCompletedEventAttributes = new()
        {
            ScheduledEventId = scheduled,
            StartedEventId = started,
            Identity = "history-builder",
            SdkMetadata = _flagged ? null : new WorkflowTaskCompletedMetadata { CoreUsedFlags = { 1, 2, 3 }, LangUsedFlags = { 2 } },
        });
        _flagged = true;
    }

    public long ScheduleActivity(string activityId, string type, object input, DateTimeOffset at) =>
        Add(EventType.ActivityTaskScheduled, at, e => e.ActivityTaskScheduledEventAttributes = new()
        {
            ActivityId = activityId,
            ActivityType = new ActivityType { Name = type },
            TaskQueue = Queue,
            Input = Payloads(input),
            StartToCloseTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(60)),
            WorkflowTaskCompletedEventId = _lastTaskCompleted,
        });

    private long StartActivity(long scheduled, DateTimeOffset at) => Add(EventType.ActivityTaskStarted, at, e => e.ActivityTaskStartedEventAttributes = new()
    {
        ScheduledEventId = scheduled,
        Identity = "history-builder",
        RequestId = $"activity-{scheduled}",
        Attempt = 1,
    });

    public void CompleteActivity(long scheduled, object? result, DateTimeOffset at)
    {
        var started = StartActivity(scheduled, at);
        Add(EventType.ActivityTaskCompleted, at, e => e.ActivityTaskCompletedEventAttributes = new()
        {
            ScheduledEventId = scheduled,
            StartedEventId = started,
            Result = Payloads(result),
            Identity = "history-builder",
        });
    }

    /// <summary>The activity failed for good (its retries are over or it was not retryable): an application failure of
    /// <paramref name="errorType"/> with <paramref name="details"/>.</summary>
    public void FailActivity(long scheduled, string errorType, string message, bool nonRetryable, object? details, DateTimeOffset at)
    {
        var started = StartActivity(scheduled, at);
        var info = new ApplicationFailureInfo { Type = errorType, NonRetryable = nonRetryable };
        if (details is not null) info.Details = Payloads(details);
        Add(EventType.ActivityTaskFailed, at, e => e.ActivityTaskFailedEventAttributes = new()
        {
            ScheduledEventId = scheduled,
            StartedEventId = started,
            Identity = "history-builder",
            RetryState = nonRetryable ? RetryState.NonRetryableFailure : RetryState.MaximumAttemptsReached,
            Failure = new Failure { Message = message, Source = "DotNetSDK", ApplicationFailureInfo = info },
        });
    }

    /// <summary>The activity timed out (its worker stopped heartbeating) and Temporal will not try it again.</summary>
    public void TimeOutActivity(long scheduled, DateTimeOffset at)
    {
        var started = StartActivity(scheduled, at);
        Add(EventType.ActivityTaskTimedOut, at, e => e.ActivityTaskTimedOutEventAttributes = new()
        {
            ScheduledEventId = scheduled,
            StartedEventId = started,
            RetryState = RetryState.MaximumAttemptsReached,
            Failure = new Failure
            {
                Message = "activity Heartbeat timeout",
                Source = "Server",
                TimeoutFailureInfo = new TimeoutFailureInfo { TimeoutType = TimeoutType.Heartbeat },
            },
        });
    }

    public void Signaled(string signalName, DateTimeOffset at) => Add(EventType.WorkflowExecutionSignaled, at, e =>
        e.WorkflowExecutionSignaledEventAttributes = new() { SignalName = signalName, Input = new Payloads(), Identity = "history-builder" });

    public void RequestCancelActivity(long scheduled, DateTimeOffset at) => Add(EventType.ActivityTaskCancelRequested, at, e =>
        e.ActivityTaskCancelRequestedEventAttributes = new() { ScheduledEventId = scheduled, WorkflowTaskCompletedEventId = _lastTaskCompleted });

    public long StartTimer(string timerId, TimeSpan after, DateTimeOffset at) => Add(EventType.TimerStarted, at, e => e.TimerStartedEventAttributes = new()
    {
        TimerId = timerId,
        StartToFireTimeout = Duration.FromTimeSpan(after),
        WorkflowTaskCompletedEventId = _lastTaskCompleted,
    });

    public void FireTimer(string timerId, long started, DateTimeOffset at) => Add(EventType.TimerFired, at, e =>
        e.TimerFiredEventAttributes = new() { TimerId = timerId, StartedEventId = started });

    public void CancelTimer(string timerId, long started, DateTimeOffset at) => Add(EventType.TimerCanceled, at, e =>
        e.TimerCanceledEventAttributes = new() { TimerId = timerId, StartedEventId = started, WorkflowTaskCompletedEventId = _lastTaskCompleted, Identity = "history-builder" });

    public void CancelRequested(DateTimeOffset at) => Add(EventType.WorkflowExecutionCancelRequested, at, e =>
        e.WorkflowExecutionCancelRequestedEventAttributes = new() { Cause = "cancelled by the test", Identity = "history-builder" });

    public void Completed(object? result, DateTimeOffset at) => Add(EventType.WorkflowExecutionCompleted, at, e =>
        e.WorkflowExecutionCompletedEventAttributes = new() { Result = Payloads(result), WorkflowTaskCompletedEventId = _lastTaskCompleted });

    public void Canceled(DateTimeOffset at) => Add(EventType.WorkflowExecutionCanceled, at, e =>
        e.WorkflowExecutionCanceledEventAttributes = new() { Details = new Payloads { Payloads_ = { NoDetails } }, WorkflowTaskCompletedEventId = _lastTaskCompleted });

    public void ContinuedAsNew(object input, DateTimeOffset at) => Add(EventType.WorkflowExecutionContinuedAsNew, at, e =>
        e.WorkflowExecutionContinuedAsNewEventAttributes = new()
        {
            NewExecutionRunId = "run-2",
            WorkflowType = new WorkflowType { Name = workflowType },
            TaskQueue = Queue,
            Input = Payloads(input),
            WorkflowTaskCompletedEventId = _lastTaskCompleted,
        });

    public WorkflowHistory Build() => new(workflowId, _events);
}
