using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
    string? LastError, bool Rebuildable, RebuildProgress? Rebuild);

/// <summary>Runs every registered projection as a background loop; reports status; rebuilds a projection beside its tables
/// (one rebuild per projection at a time in this instance; the last one's progress stays visible).</summary>
public sealed class ProjectionHost : BackgroundService
{
    private readonly IEventStore _store;
    private readonly IStoreDatabase _database;
    private readonly Dictionary<string, ProjectionRunner> _runners;
    private readonly AllTail _tail;
    private readonly RebuildOptions _rebuildOptions;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<string, ProjectionRebuild> _rebuilds = new(StringComparer.Ordinal);

    public ProjectionHost(IEnumerable<IProjection> projections, IEventStore store, IStoreDatabase database,
        ProjectionRunnerOptions options, ILoggerFactory loggers, RebuildOptions? rebuildOptions = null)
    {
        ArgumentNullException.ThrowIfNull(loggers);
        _store = store;
        _database = database;
        _rebuildOptions = rebuildOptions ?? new RebuildOptions();
        _logger = loggers.CreateLogger<ProjectionHost>();
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
                stored, head, lag, runner.LastError, ProjectionRebuilder.CanRebuild(runner.Projection, _database.Dialect),
                GetRebuild(runner.Projection.Name)?.Progress));
        }

        return result;
    }

    /// <summary>Starts rebuilding <paramref name="name"/> beside its live tables (<see cref="ProjectionRebuilder"/>) in the
    /// background; its progress is <see cref="GetRebuild"/>'s. Throws <see cref="KeyNotFoundException"/> for an unknown name and
    /// <see cref="RebuildRefusedException"/> for a processor, a projection without tables of its own, or one being rebuilt here.</summary>
    public ProjectionRebuild StartRebuild(string name, RebuildMode mode)
    {
        if (!_runners.TryGetValue(name, out var runner))
            throw new KeyNotFoundException($"No projection named '{name}'.");
        if (!ProjectionRebuilder.CanRebuild(runner.Projection, _database.Dialect))
            throw new RebuildRefusedException(runner.Projection is EventProcessorProjection
                ? $"'{name}' is an event processor: its effects are outside tables, so it cannot be rebuilt."
                : $"'{name}' names no tables of its own: it can only be reset in place.", notRebuildable: true);
        lock (_rebuilds)
        {
            if (_rebuilds.TryGetValue(name, out var running) && running.IsRunning)
                throw new RebuildRefusedException($"'{name}' is already being rebuilt here (since {running.StartedAt:O}).", notRebuildable: false);
            var job = new ProjectionRebuild(runner.Projection, mode);
            job.Completion = Task.Run(async () =>
            {
                _logger.LogInformation("Projection {Projection}: rebuild ({Mode}) started", name, mode);
                await ProjectionRebuilder.RunAsync(job, _store, _database, _rebuildOptions, _stopping.Token).ConfigureAwait(false);
                var done = job.Progress;
                _logger.LogInformation("Projection {Projection}: rebuild ({Mode}) {State} after {Applied} events at {Rate} events/s{Error}",
                    name, mode, done.State, done.Applied, done.EventsPerSecond, done.Error is null ? "" : ": " + done.Error);
            });
            _rebuilds[name] = job;
            return job;
        }
    }

    /// <summary>The running or last rebuild of <paramref name="name"/> in this instance, if any.</summary>
    public ProjectionRebuild? GetRebuild(string name)
    {
        lock (_rebuilds) return _rebuilds.GetValueOrDefault(name);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Task[] rebuilds;
        lock (_rebuilds) rebuilds = [.. _rebuilds.Values.Select(r => r.Completion)];
        await Task.WhenAll(rebuilds).WaitAsync(cancellationToken).ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        // Hosts may stop a service after disposing it (the test host does): cancel rather than dispose the source, whose
        // token nothing outlives.
        _stopping.Cancel();
        base.Dispose();
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
        services.TryAddSingleton(new RebuildOptions());
        services.AddSingleton<ProjectionHost>();
        services.AddHostedService(sp => sp.GetRequiredService<ProjectionHost>());
        return services;
    }

    public static IServiceCollection AddProjection<TProjection>(this IServiceCollection services)
        where TProjection : class, IProjection =>
        services.AddSingleton<IProjection, TProjection>();
}
