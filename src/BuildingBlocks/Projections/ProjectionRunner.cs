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

    /// <summary>How often a checkpoint moving across events the projection does not receive is written (it is always written
    /// with a page of events it receives, when idle, and when stopping).</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Runs one projection: takes leadership, reads <c>$all</c> page by page from its checkpoint, and applies each page
/// and the new checkpoint in one transaction (compare-and-set on the old checkpoint). A failure anywhere rolls the
/// page back; the runner then reloads its checkpoint and tries again after <see cref="ProjectionRunnerOptions.RetryDelay"/>.
/// Once caught up, pages come from the process's shared <see cref="AllTail"/> when one is given (one <c>$all</c> read per
/// append for all projections instead of one each). Stretches without matching events move the stored checkpoint at most
/// every <see cref="ProjectionRunnerOptions.CheckpointInterval"/>, when idle and when stopping: a restart scans them again.
/// </summary>
public sealed class ProjectionRunner(IProjection projection, IEventStore store, IStoreDatabase database,
    ProjectionRunnerOptions options, ILogger logger, AllTail? tail = null)
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

        // persisted: the stored checkpoint as this leader last wrote or read it (the compare-and-set's expected value);
        // scanned: how far this runner has looked. They differ only across stretches with no matching event, and for
        // processors, whose checkpoint is written at most every CheckpointInterval instead of once per page.
        var persisted = GlobalPosition.Start;
        var lastWrite = TimeProvider.System.GetTimestamp();
        try
        {
            persisted = await ProjectionCheckpoints.LoadAsync(leadership, projection.Name, cancellationToken).ConfigureAwait(false);
            var scanned = persisted;
            SetCheckpoint(scanned);
            _state = ProjectionState.CatchingUp;
            while (!cancellationToken.IsCancellationRequested)
            {
                // Taken before the read, so an append (or a tail advance) during the read still wakes us.
                var appended = store.AppendSignal.NextAppend;
                var advanced = tail?.NextAdvance;
                var slice = tail?.TryRead(scanned, options.BatchSize, projection.Filter);
                var fromTail = slice is not null;
                slice ??= await store.ReadAllForwardAsync(scanned, options.BatchSize, projection.Filter, cancellationToken).ConfigureAwait(false);

                if (slice.Events.Count > 0 && projection is not EventProcessorProjection)
                {
                    if (!await ApplyPageAsync(slice, persisted, cancellationToken).ConfigureAwait(false))
                    {
                        logger.LogWarning("Projection {Projection}: checkpoint moved by another writer (reset or second instance); reloading", projection.Name);
                        return;
                    }

                    persisted = scanned = slice.ScannedUpTo;
                    lastWrite = TimeProvider.System.GetTimestamp();
                    SetCheckpoint(scanned);
                }
                else if (slice.ScannedUpTo > scanned)
                {
                    // A processor's effects are its own (idempotent, delivered at least once): nothing is written with its
                    // checkpoint, which follows lazily like that of a page without matching events. A crash hands the
                    // events since the stored checkpoint (about CheckpointInterval's worth) again.
                    if (slice.Events.Count > 0)
                        await ((EventProcessorProjection)projection).Processor.HandleAsync(slice.Events, cancellationToken).ConfigureAwait(false);
                    scanned = slice.ScannedUpTo;
                    SetCheckpoint(scanned);
                    if (TimeProvider.System.GetElapsedTime(lastWrite) >= options.CheckpointInterval
                        && !await CatchUpStoredAsync(cancellationToken).ConfigureAwait(false)) return;
                }
                else if (slice.IsEnd)
                {
                    // Idle (a wake-up or poll with nothing new): write a checkpoint left behind, and notice a reset made by
                    // an operator, here or on another host.
                    if (scanned != persisted)
                    {
                        if (!await CatchUpStoredAsync(cancellationToken).ConfigureAwait(false)) return;
                    }
                    else if (await ProjectionCheckpoints.ReadAsync(leadership, projection.Name, cancellationToken).ConfigureAwait(false) != persisted)
                    {
                        logger.LogInformation("Projection {Projection}: checkpoint was reset; rebuilding", projection.Name);
                        return;
                    }
                }

                LastError = null;
                _state = slice.IsEnd ? ProjectionState.Live : ProjectionState.CatchingUp;
                if (!slice.IsEnd) continue;
                var wake = fromTail ? advanced! : AllSubscription.NextWake(slice, appended, cancellationToken);
                await AllSubscription.WaitAsync(wake, options.PollInterval, cancellationToken).ConfigureAwait(false);
            }

            if (scanned != persisted)
            {
                // Stopping: keep what was scanned (best effort; the next leader would only scan it again).
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await CatchUpStoredAsync(timeout.Token).ConfigureAwait(false);
            }

            // Moves the stored checkpoint to what was scanned; false (logged) when another writer moved it first.
            async Task<bool> CatchUpStoredAsync(CancellationToken token)
            {
                if (!await WriteCheckpointAsync(persisted, scanned, token).ConfigureAwait(false)) return false;
                persisted = scanned;
                lastWrite = TimeProvider.System.GetTimestamp();
                return true;
            }
        }
        finally
        {
            await ProjectionLeadership.ReleaseAsync(database, leadership, projection.Name).ConfigureAwait(false);
        }
    }

    /// <summary>Moves the stored checkpoint across a stretch without matching events; false (logged) when another writer
    /// moved it first.</summary>
    private async Task<bool> WriteCheckpointAsync(GlobalPosition expected, GlobalPosition next, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await database.BeginWriteTransactionAsync(connection, cancellationToken).ConfigureAwait(false);
        if (!await ProjectionCheckpoints.TryAdvanceAsync(connection, tx, projection.Name, expected, next, cancellationToken).ConfigureAwait(false))
        {
            logger.LogInformation("Projection {Projection}: checkpoint moved by another writer (reset or second instance); reloading", projection.Name);
            return false;
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task<bool> ApplyPageAsync(AllSlice slice, GlobalPosition checkpoint, CancellationToken cancellationToken)
    {
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
