using System.Diagnostics;
using Triggers.Modular.BuildingBlocks.EventStore;

namespace Triggers.Modular.BuildingBlocks.Projections;

/// <summary><c>Switch</c>: the rebuilt tables replace the live ones. <c>Compare</c>: they are compared with the live ones,
/// row for row, at the same checkpoint, then dropped (nothing changes for readers).</summary>
public enum RebuildMode
{
    Switch,
    Compare,
}

public enum RebuildState
{
    /// <summary>Replaying <c>$all</c> from position 0 into the shadow tables.</summary>
    Building,

    /// <summary>Under the live tables' lock: applying the last events, then switching or comparing.</summary>
    Finishing,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>One live table against its rebuilt twin at the same checkpoint: row counts, and the rows found on one side
/// only (all columns compared).</summary>
public sealed record TableComparison(string Table, long LiveRows, long RebuiltRows, long OnlyLive, long OnlyRebuilt)
{
    public bool Identical => LiveRows == RebuiltRows && OnlyLive == 0 && OnlyRebuilt == 0;
}

/// <summary>A rebuild as operators see it while it runs and after. <see cref="Percent"/>: events applied ÷ (applied + the events the
/// projection receives after the position reached, counted at the start and again every second). <see cref="EventsPerSecond"/>: applied ÷ elapsed.</summary>
public sealed record RebuildProgress(string Projection, RebuildMode Mode, RebuildState State, long Applied, long Total, double Percent,
    double EventsPerSecond, GlobalPosition Position, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string? Error,
    IReadOnlyList<TableComparison>? Comparison)
{
    /// <summary>Compare mode, finished: every table identical.</summary>
    public bool? Identical => Comparison?.All(c => c.Identical);
}

/// <summary>One rebuild of one projection: its counters (updated by <see cref="ProjectionRebuilder"/>) and its task.</summary>
public sealed class ProjectionRebuild
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private RebuildState _state = RebuildState.Building;
    private long _applied;
    private long _total;
    private GlobalPosition _position;
    private DateTimeOffset? _finishedAt;
    private double _seconds;
    private string? _error;
    private IReadOnlyList<TableComparison>? _comparison;

    public ProjectionRebuild(IProjection projection, RebuildMode mode)
    {
        ArgumentNullException.ThrowIfNull(projection);
        Projection = projection;
        Mode = mode;
        StartedAt = DateTimeOffset.UtcNow;
    }

    public IProjection Projection { get; }

    public RebuildMode Mode { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>Completes when the rebuild has ended, whatever the outcome (see <see cref="Progress"/>).</summary>
    public Task Completion { get; internal set; } = Task.CompletedTask;

    public bool IsRunning
    {
        get
        {
            lock (_gate) return _state is RebuildState.Building or RebuildState.Finishing;
        }
    }

    public RebuildProgress Progress
    {
        get
        {
            lock (_gate)
            {
                var seconds = _finishedAt is null ? _clock.Elapsed.TotalSeconds : _seconds;
                var percent = _state == RebuildState.Completed ? 100
                    : _total == 0 ? 0 : Math.Min(99.9, Math.Round(100.0 * _applied / _total, 1));
                return new RebuildProgress(Projection.Name, Mode, _state, _applied, Math.Max(_total, _applied), percent,
                    seconds <= 0 ? 0 : Math.Round(_applied / seconds), _position, StartedAt, _finishedAt, _error, _comparison);
            }
        }
    }

    internal void SetTotal(long total)
    {
        lock (_gate) _total = total;
    }

    internal void Advance(int applied, GlobalPosition position)
    {
        lock (_gate)
        {
            _applied += applied;
            _position = position;
        }
    }

    internal void Set(RebuildState state)
    {
        lock (_gate) _state = state;
    }

    internal void Finish(RebuildState state, string? error = null, IReadOnlyList<TableComparison>? comparison = null)
    {
        lock (_gate)
        {
            _state = state;
            _error = error;
            _comparison = comparison;
            _seconds = _clock.Elapsed.TotalSeconds;
            _finishedAt = DateTimeOffset.UtcNow;
        }
    }
}

/// <summary>Why a rebuild was not started: <see cref="NotRebuildable"/> (a processor, or a projection naming no tables of its
/// own) or already running in this instance.</summary>
public sealed class RebuildRefusedException(string message, bool notRebuildable) : InvalidOperationException(message)
{
    public bool NotRebuildable { get; } = notRebuildable;
}
