using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.EventStore.Subscriptions;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.BuildingBlocks.Projections;

/// <summary>A projection or event processor as operators see it (issue 9): <see cref="Kind"/> <c>projection</c> (a read model)
/// or <c>processor</c> (side effects: routing, starts); <see cref="State"/> of its runner in this instance
/// (<c>live</c>, <c>catching_up</c>, <c>waiting_for_leadership</c> — another instance leads —, <c>faulted</c>, <c>stopped</c>);
/// <see cref="Checkpoint"/> the stored one (shared by all instances); <see cref="Lag"/> the events after it that it receives.</summary>
public sealed record ProjectionStatus(string Name, string Kind, ProjectionState State, GlobalPosition Checkpoint, GlobalPosition Head, long Lag,
    string? LastError);

/// <summary>Runs every registered projection as a background loop; reports status; resets for rebuilds.</summary>
public sealed class ProjectionHost : BackgroundService
{
    private readonly IEventStore _store;
    private readonly IStoreDatabase _database;
    private readonly Dictionary<string, ProjectionRunner> _runners;
    private readonly AllTail _tail;

    public ProjectionHost(IEnumerable<IProjection> projections, IEventStore store, IStoreDatabase database,
        ProjectionRunnerOptions options, ILoggerFactory loggers)
    {
        _store = store;
        _database = database;
        _tail = new AllTail(store, new AllTailOptions { PollInterval = options.PollInterval }, loggers.CreateLogger<AllTail>());
        _runners = projections.ToDictionary(p => p.Name, p => new ProjectionRunner(p, store, database, options,
            loggers.CreateLogger($"Projection.{p.Name}"), _tail), StringComparer.Ordinal);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_runners.Values.Select(r => Task.Run(() => r.RunAsync(stoppingToken), stoppingToken))
            .Append(Task.Run(() => _tail.RunAsync(stoppingToken), stoppingToken)));

    public async Task<IReadOnlyList<ProjectionStatus>> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var head = await _store.ReadHeadPositionAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<ProjectionStatus>();
        await using var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var runner in _runners.Values.OrderBy(r => r.Projection.Name, StringComparer.Ordinal))
        {
            var stored = await ProjectionCheckpoints.ReadAsync(connection, runner.Projection.Name, cancellationToken).ConfigureAwait(false);
            var lag = await _store.CountAllAfterAsync(stored, runner.Projection.Filter, cancellationToken).ConfigureAwait(false);
            result.Add(new ProjectionStatus(runner.Projection.Name, runner.Projection is EventProcessorProjection ? "processor" : "projection", runner.State,
                stored, head, lag, runner.LastError));
        }

        return result;
    }

    /// <summary>Clears the read model and sets the checkpoint to 0 in one transaction; the running instance, whose
    /// next compare-and-set then fails, reloads and rebuilds from the start.</summary>
    public async Task ResetAsync(string name, CancellationToken cancellationToken = default)
    {
        if (!_runners.TryGetValue(name, out var runner))
            throw new KeyNotFoundException($"No projection named '{name}'.");
        await ResetAsync(runner.Projection, _database, cancellationToken).ConfigureAwait(false);
    }

    public static async Task ResetAsync(IProjection projection, IStoreDatabase database, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(projection);
        ArgumentNullException.ThrowIfNull(database);
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await ProjectionCheckpoints.LoadAsync(connection, projection.Name, cancellationToken).ConfigureAwait(false);
        await using var tx = await database.BeginWriteTransactionAsync(connection, cancellationToken).ConfigureAwait(false);
        // Checkpoint first: its row lock makes a page transaction that is mid-flight either commit before our delete
        // (whose snapshot then includes its rows) or fail its compare-and-set after we commit.
        await ProjectionCheckpoints.ResetAsync(connection, tx, projection.Name, cancellationToken).ConfigureAwait(false);
        await projection.ResetAsync(new ProjectionContext(connection, tx, database.Dialect), cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}

public static class ProjectionRegistration
{
    public static IServiceCollection AddProjections(this IServiceCollection services, ProjectionRunnerOptions? options = null)
    {
        services.AddSingleton(ProjectionCheckpoints.Migrations);
        services.AddSingleton(options ?? new ProjectionRunnerOptions());
        services.AddSingleton<ProjectionHost>();
        services.AddHostedService(sp => sp.GetRequiredService<ProjectionHost>());
        return services;
    }

    public static IServiceCollection AddProjection<TProjection>(this IServiceCollection services)
        where TProjection : class, IProjection =>
        services.AddSingleton<IProjection, TProjection>();
}
