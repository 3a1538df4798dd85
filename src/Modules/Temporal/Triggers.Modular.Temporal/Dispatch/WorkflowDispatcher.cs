using Microsoft.Extensions.Logging;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Exceptions;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Temporal.Workflows;

namespace Triggers.Modular.Temporal.Dispatch;

/// <summary>
/// Hands the executions recorded in the event store to Temporal (docs/adr/0017): <c>ExecutionStarted</c> starts the
/// execution's workflow (id = execution id; a workflow already running or already closed under that id is left alone, so a
/// redelivered or repeated start is a no-op), <c>ExecutionRetried</c> starts a new run under the same id — or, when the run
/// that failed has not closed yet, signals it to read the execution again instead of ending —, <c>ExecutionCancelRequested</c> cancels the workflow (the cancel is already recorded; a closed workflow is left
/// alone). A checkpointed processor: a crash between the append and the Temporal call hands the event again, and nothing is
/// lost while Temporal is unreachable — the page is retried.
/// </summary>
internal sealed partial class WorkflowDispatcher(ITemporalClient client, TemporalOptions options, IEventStore store, EventSerializer serializer,
    ILogger<WorkflowDispatcher> logger) : IEventProcessor
{
    private const int Parallelism = 16;

    public string Name => "temporal-executions";

    public AllFilter? Filter { get; } = new(Categories: [ExecutionEventTypes.Category],
        EventTypePrefixes: [ExecutionEventTypes.Started, ExecutionEventTypes.Retried, ExecutionEventTypes.CancelRequested]);

    public Task HandleAsync(IReadOnlyList<RecordedEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        // One execution's events in order (a start before its cancel), executions side by side.
        var byExecution = events.GroupBy(e => e.StreamName, StringComparer.Ordinal).Select(g => g.ToList()).ToList();
        return Parallel.ForEachAsync(byExecution, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (stream, ct) =>
            {
                foreach (var e in stream) await HandleAsync(e, ct).ConfigureAwait(false);
            });
    }

    private async Task HandleAsync(RecordedEvent e, CancellationToken cancellationToken)
    {
        switch (serializer.Deserialize(e))
        {
            case ExecutionStarted started:
                await StartAsync(new ExecutionRun(started.ExecutionId, started.WorkflowId, started.WorkflowVersion, started.Payload),
                    WorkflowIdReusePolicy.RejectDuplicate, cancellationToken).ConfigureAwait(false);
                break;
            case ExecutionRetried retried:
                var first = await store.ReadStreamAsync(e.StreamName, ReadDirection.Forward, 0, 1, cancellationToken).ConfigureAwait(false);
                if (first is [var head] && serializer.Deserialize(head) is ExecutionStarted origin)
                    await StartAsync(new ExecutionRun(origin.ExecutionId, origin.WorkflowId, origin.WorkflowVersion, origin.Payload),
                        WorkflowIdReusePolicy.AllowDuplicate, cancellationToken, resync: true).ConfigureAwait(false);
                break;
            case ExecutionCancelRequested cancel:
                try
                {
                    await client.GetWorkflowHandle(cancel.ExecutionId).CancelAsync(new WorkflowCancelOptions
                    {
                        Rpc = new RpcOptions { CancellationToken = cancellationToken },
                    }).ConfigureAwait(false);
                }
                catch (RpcException ex) when (ex.Code == RpcException.StatusCode.NotFound)
                {
                    LogCancelNotRunning(cancel.ExecutionId); // finished meanwhile, or never started
                }

                break;
        }
    }

    /// <summary>Starts the execution's workflow unless a run is open (<c>UseExisting</c>); with <paramref name="resync"/>, a
    /// signal-with-start: the open run — which may be about to end on a view from before the retry — reads the execution
    /// again before it ends, and a new run starts when none is open.</summary>
    private async Task StartAsync(ExecutionRun run, WorkflowIdReusePolicy reuse, CancellationToken cancellationToken, bool resync = false)
    {
        try
        {
            var start = new WorkflowOptions(run.ExecutionId, options.TaskQueue)
            {
                IdConflictPolicy = WorkflowIdConflictPolicy.UseExisting,
                IdReusePolicy = reuse,
                Rpc = new RpcOptions { CancellationToken = cancellationToken },
            };
            if (resync) start.SignalWithStart((ExecutionWorkflow wf) => wf.ResyncAsync());
            await client.StartWorkflowAsync((ExecutionWorkflow wf) => wf.RunAsync(run), start).ConfigureAwait(false);
        }
        catch (WorkflowAlreadyStartedException)
        {
            LogAlreadyStarted(run.ExecutionId); // it ran already: a repeated start is a no-op
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Execution {ExecutionId}: its workflow already ran; not started again")]
    private partial void LogAlreadyStarted(string executionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Execution {ExecutionId}: no running workflow to cancel")]
    private partial void LogCancelNotRunning(string executionId);
}
