using Temporalio.Worker.Interceptors;

namespace Triggers.Modular.Temporal.Tests;

/// <summary>Captures every activity a workflow schedules while it is replayed (the replayer does not compare arguments).</summary>
internal sealed class CaptureActivities : IWorkerInterceptor
{
    public List<(string Activity, object? Argument)> Scheduled { get; } = [];

    public WorkflowInboundInterceptor InterceptWorkflow(WorkflowInboundInterceptor nextInterceptor) => new Inbound(nextInterceptor, this);

    private sealed class Inbound(WorkflowInboundInterceptor next, CaptureActivities owner) : WorkflowInboundInterceptor(next)
    {
        public override void Init(WorkflowOutboundInterceptor outbound) => base.Init(new Outbound(outbound, owner));
    }

    private sealed class Outbound(WorkflowOutboundInterceptor next, CaptureActivities owner) : WorkflowOutboundInterceptor(next)
    {
        public override Task<TResult> ScheduleActivityAsync<TResult>(ScheduleActivityInput input)
        {
            owner.Scheduled.Add((input.Activity, input.Args.FirstOrDefault()));
            return base.ScheduleActivityAsync<TResult>(input);
        }
    }
}
