using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.EventStore;

namespace Triggers.Modular.BuildingBlocks.Projections;

/// <summary>
/// A checkpointed subscription with effects outside the read models — appending events, starting executions — run by
/// the projection host like a projection: one leader across hosts, a checkpoint, a status, a reset. The runner hands it
/// each page of matching events before the checkpoint moves past them, outside the checkpoint's transaction (on SQLite,
/// a store write could not run inside it). Its checkpoint is written lazily (at most every
/// <see cref="ProjectionRunnerOptions.CheckpointInterval"/>, when idle and when stopping; docs/adr/0013). Delivery is at
/// least once: a crash or failure after <see cref="HandleAsync"/> and before the stored checkpoint moves hands the same
/// events again, so effects must be idempotent (expected revisions, deterministic ids).
/// </summary>
public interface IEventProcessor
{
    /// <summary>Stable name: the checkpoint's key (shared with projections: keep them distinct).</summary>
    string Name { get; }

    AllFilter? Filter { get; }

    Task HandleAsync(IReadOnlyList<RecordedEvent> events, CancellationToken cancellationToken);
}

/// <summary>An <see cref="IEventProcessor"/> as the projection runner sees it: nothing of its own to write in the
/// checkpoint's transaction and nothing to delete on a reset (a reset hands every event to the processor again).</summary>
public sealed class EventProcessorProjection(IEventProcessor processor) : IProjection
{
    public IEventProcessor Processor => processor;

    public string Name => processor.Name;

    public AllFilter? Filter => processor.Filter;

    public Task ApplyAsync(RecordedEvent e, ProjectionContext context, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ApplyBatchAsync(IReadOnlyList<RecordedEvent> events, ProjectionContext context, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    public Task ResetAsync(ProjectionContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

public static class EventProcessorRegistration
{
    /// <summary>Registers a processor to run under the projection host (<see cref="ProjectionRegistration.AddProjections"/>).</summary>
    public static IServiceCollection AddEventProcessor<TProcessor>(this IServiceCollection services) where TProcessor : class, IEventProcessor
    {
        services.AddSingleton<TProcessor>();
        return services.AddSingleton<IProjection>(sp => new EventProcessorProjection(sp.GetRequiredService<TProcessor>()));
    }
}
