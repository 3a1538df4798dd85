using System.Data.Common;
using Microsoft.Extensions.Logging;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.EventStore.Subscriptions;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.BuildingBlocks.Projections;

public enum ProjectionState
{
    Stopped,
    WaitingForLeadership,
    CatchingUp,
    Live,
    Faulted,
}

public sealed record ProjectionRunnerOptions
{
    public int BatchSize { get; init; } = 500;
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Runs one projection: takes leadership, reads <c>$all</c> page by page from its checkpoint, and applies each page
/// and the new checkpoint in one transaction (compare-and-set on the old checkpoint). A failure anywhere rolls the
/// page back; the runner then reloads its checkpoint and tries again after <see cref="ProjectionRunnerOptions.RetryDelay"/>.
/// </summary>
public sealed class ProjectionRunner(IProjection projection, IEventStore store, IStoreDatabase database,
    ProjectionRunnerOptions options, ILogger logger)
{
    private volatile ProjectionState _state = ProjectionState.Stopped;
    private long _checkpointCommit;
    private long _checkpointPrepare;

    public IProjection Projection => projection;
    public ProjectionState State => _state;
    public string? LastError { get; private set; }

    /// <summary>The checkpoint this instance last committed (or loaded).</summary>
    public GlobalPosition Checkpoint => new(Interlocked.Read(ref _checkpointCommit), Interlocked.Read(ref _checkpointPrepare));

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await RunAsLeaderAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _state = ProjectionState.Faulted;
                LastError = ex.Message;
                logger.LogError(ex, "Projection {Projection} failed at {Checkpoint}; retrying", projection.Name, Checkpoint);
                try
                {
                    await Task.Delay(options.RetryDelay, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        _state = ProjectionState.Stopped;
    }

    private async Task RunAsLeaderAsync(CancellationToken cancellationToken)
    {
        _state = ProjectionState.WaitingForLeadership;
        DbConnection? leadership;
        while ((leadership = await ProjectionLeadership.TryAcquireAsync(database, projection.Name, cancellationToken).ConfigureAwait(false)) is null)
            await Task.Delay(options.RetryDelay, cancellationToken).ConfigureAwait(false);

        try
        {
            var checkpoint = await ProjectionCheckpoints.LoadAsync(leadership, projection.Name, cancellationToken).ConfigureAwait(false);
            SetCheckpoint(checkpoint);
            _state = ProjectionState.CatchingUp;
            var settings = new SubscriptionSettings(options.BatchSize, options.PollInterval);
            await foreach (var slice in store.ReadAllPagesAsync(FromAll.AfterPosition(checkpoint), projection.Filter, settings, cancellationToken)
                               .ConfigureAwait(false))
            {
                if (slice.ScannedUpTo > checkpoint)
                {
                    if (!await ApplyPageAsync(slice, checkpoint, cancellationToken).ConfigureAwait(false))
                    {
                        logger.LogWarning("Projection {Projection}: checkpoint moved by another writer (reset or second instance); reloading", projection.Name);
                        return;
                    }

                    checkpoint = slice.ScannedUpTo;
                    SetCheckpoint(checkpoint);
                }
                else if (await ProjectionCheckpoints.ReadAsync(leadership, projection.Name, cancellationToken).ConfigureAwait(false) != checkpoint)
                {
                    // Idle (each wake-up or poll): notice a reset made by an operator, here or on another host.
                    logger.LogInformation("Projection {Projection}: checkpoint was reset; rebuilding", projection.Name);
                    return;
                }

                LastError = null;
                _state = slice.IsEnd ? ProjectionState.Live : ProjectionState.CatchingUp;
            }
        }
        finally
        {
            await ProjectionLeadership.ReleaseAsync(database, leadership, projection.Name).ConfigureAwait(false);
        }
    }

    private async Task<bool> ApplyPageAsync(AllSlice slice, GlobalPosition checkpoint, CancellationToken cancellationToken)
    {
        // A processor acts first, on connections of its own; then only the checkpoint moves in the transaction below.
        if (projection is EventProcessorProjection processor && slice.Events.Count > 0)
            await processor.Processor.HandleAsync(slice.Events, cancellationToken).ConfigureAwait(false);
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await database.BeginWriteTransactionAsync(connection, cancellationToken).ConfigureAwait(false);
        var context = new ProjectionContext(connection, tx, database.Dialect);
        await projection.ApplyBatchAsync(slice.Events, context, cancellationToken).ConfigureAwait(false);
        if (!await ProjectionCheckpoints.TryAdvanceAsync(connection, tx, projection.Name, checkpoint, slice.ScannedUpTo, cancellationToken).ConfigureAwait(false))
            return false; // disposing the transaction rolls the page back
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private void SetCheckpoint(GlobalPosition position)
    {
        Interlocked.Exchange(ref _checkpointCommit, position.Commit);
        Interlocked.Exchange(ref _checkpointPrepare, position.Prepare);
    }
}
