namespace Triggers.Modular.BuildingBlocks.EventStore.Subscriptions;

/// <summary>An append signal within one process: every waiter is released by the next <see cref="Notify"/>.</summary>
public sealed class InProcessAppendSignal : IAppendSignal
{
    private TaskCompletionSource _next = NewSource();

    public Task NextAppend => Volatile.Read(ref _next).Task;

    public void Notify() => Interlocked.Exchange(ref _next, NewSource()).TrySetResult();

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
