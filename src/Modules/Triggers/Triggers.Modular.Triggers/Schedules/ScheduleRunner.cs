using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Triggers.Contracts;
using Triggers.Modular.Triggers.Domain;
using Triggers.Modular.Triggers.ReadModel;

namespace Triggers.Modular.Triggers.Schedules;

/// <summary>Settings of the schedule firing loop (<c>Triggers:Schedules:*</c>).</summary>
internal sealed class ScheduleOptions
{
    /// <summary>Run the loop in this host (default true).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the loop looks for due slots (default 0.5 s): the most a slot fires late, and how soon a new or
    /// changed schedule is seen.</summary>
    public double PollSeconds { get; set; } = 0.5;

    /// <summary>How late a slot may fire and still count as on time, on top of the trigger's catch-up window (default 5 s).</summary>
    public double GraceSeconds { get; set; } = 5;

    /// <summary>How long a fired slot whose execution has not started yet still counts as running for the overlap policy
    /// (default 60 s; the start normally follows within milliseconds).</summary>
    public double StartGraceSeconds { get; set; } = 60;

    /// <summary>Due schedules decided at once in a round (default 16).</summary>
    public int Parallelism { get; set; } = 16;
}

/// <summary>
/// The schedule firing loop (ADR 0015), on every host instance: each round reads the enabled schedule triggers, and for each
/// whose next slot is due decides on its stream (<see cref="ScheduleDecider"/>) and appends at the revision it read. Two
/// instances deciding the same slot cannot both append it: the loser re-reads, finds it decided, and appends nothing. The
/// cadence of a trigger starts at its creation, its last enabling or the last change of its expression or zone, so slots
/// of a disabled period are neither fired nor counted missed; slots missed while no host ran are caught up within the
/// trigger's window.
/// </summary>
internal sealed partial class ScheduleRunner(IServiceScopeFactory scopes, IStoreDatabase database, ScheduleOptions options, TimeProvider clock,
    ILogger<ScheduleRunner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Enabled) return;
        var poll = TimeSpan.FromSeconds(Math.Max(0.05, options.PollSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RoundAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // the loop outlives a failed round (a database blip); the next round retries
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogRoundFailed(e);
            }

            try
            {
                await Task.Delay(poll, clock, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One pass over the enabled schedule triggers (also called by tests): the due ones are found from the triggers
    /// and schedules read models, then each is decided on its streams.</summary>
    public async Task RoundAsync(CancellationToken cancellationToken)
    {
        List<ScheduledTrigger> triggers;
        await using (var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync(new CommandDefinition(
                $"SELECT t.trigger_id, t.config, COALESCE(t.cadence_since, t.updated_at) AS cadence_since, s.paused, s.cursor_at, s.buffered_slot FROM {TriggersProjection.Table(database.Dialect)} t " +
                $"LEFT JOIN {SchedulesProjection.Table(database.Dialect)} s ON s.trigger_id = t.trigger_id WHERE t.type = 'schedule' AND t.enabled = @enabled",
                new { enabled = true }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            triggers = [.. rows.Select(r => new ScheduledTrigger((string)r.trigger_id, (string)r.config, SqlTime.Read(r.cadence_since),
                r.paused is not null and not DBNull && SqlBool.Read((object)r.paused),
                SqlTime.ReadNullable((object?)r.cursor_at), r.buffered_slot is string))];
        }

        var now = clock.GetUtcNow();
        List<string> due = [];
        foreach (var trigger in triggers)
        {
            try
            {
                if (MaybeDue(trigger, now)) due.Add(trigger.TriggerId);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogTriggerFailed(e, trigger.TriggerId); // an expression or zone this machine cannot read
            }
        }

        // Many schedules share due instants (every minute, the top of the hour): their decisions go in parallel, each on its
        // own streams.
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism), CancellationToken = cancellationToken },
            async (triggerId, ct) =>
            {
                try
                {
                    await AdvanceAsync(triggerId, now, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogTriggerFailed(e, triggerId);
                }
            }).ConfigureAwait(false);
    }

    /// <summary>Whether the read models say a slot is due (or a buffered one waits). They may lag the streams: a lagging
    /// cursor only costs a read of the stream that finds nothing due; a resumption not projected yet delays the next slot by
    /// that lag.</summary>
    private bool MaybeDue(ScheduledTrigger row, DateTimeOffset now)
    {
        if (row.Paused) return false;
        if (row.Buffered) return true;
        var config = ScheduleConfig.From(JsonSerializer.Deserialize<JsonElement>(row.Config));
        if (ScheduleFor(config) is not { } schedule) return false;
        var from = row.Cursor is { } cursor && cursor > row.CadenceSince ? cursor : row.CadenceSince;
        return schedule.NextAfter(from) is { } next && next <= now;
    }

    /// <summary>Parsed cadences by expression and zone (a bounded cache).</summary>
    private readonly ConcurrentDictionary<(string, string?), CronSchedule> _schedules = new();

    private CronSchedule? ScheduleFor(ScheduleConfig config)
    {
        if (string.IsNullOrWhiteSpace(config.CronExpression)) return null;
        var key = (config.CronExpression, config.Timezone);
        if (_schedules.TryGetValue(key, out var cached)) return cached;
        if (_schedules.Count >= 10_000) _schedules.Clear();
        return _schedules[key] = config.Schedule()!; // CronSchedule is immutable: a race parses twice, harmlessly
    }

    /// <summary>Decides what is due on the trigger's and the schedule's streams, which are exact: a trigger deleted, disabled or
    /// changed since the read model was written is taken as it is now.</summary>
    private async Task AdvanceAsync(string triggerId, DateTimeOffset roundStart, CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var handler = scope.ServiceProvider.GetRequiredService<CommandHandler>();
        var (trigger, _) = await handler.LoadAsync(TriggerDecider.Instance, TriggerEventTypes.StreamFor(triggerId), cancellationToken).ConfigureAwait(false);
        if (!trigger.Exists || trigger.Deleted || !trigger.Enabled || trigger.Type != "schedule") return;
        var config = ScheduleConfig.From(trigger.Config);
        if (ScheduleFor(config) is not { } schedule) return;
        var policy = config.OverlapPolicy;
        var since = trigger.CadenceSince;

        var stream = ScheduleEventTypes.StreamFor(triggerId);
        // From the schedules read model's row and the stream after it: a long stream is not read from its start.
        var snapshot = Resources.ScheduleViews.Snapshot(database, triggerId);
        var (state, _) = await handler.LoadAsync(ScheduleDecider.Instance, stream, snapshot, cancellationToken).ConfigureAwait(false);
        var now = roundStart; // what is due, as of the round's start (see ScheduleCommand.Advance.At)
        if (state.Paused) return;
        var from = state.Cursor is { } cursor && cursor > since ? cursor : since;
        var nextSlot = schedule.NextAfter(from);
        if (state.BufferedSlot is null && (nextSlot is null || nextSlot > now)) return; // nothing due: no append, no read of executions

        var running = false;
        if (policy != "allow_all" && state.LastExecutionId is { } last && scope.ServiceProvider.GetService<IExecutionsModule>() is { } executions)
        {
            // An execution fired but not started yet (the start is one hop later) is running; one that never starts (its
            // workflow deleted) stops counting after StartGraceSeconds.
            var finished = await executions.IsFinishedAsync(trigger.TenantId, trigger.Environment, last, cancellationToken).ConfigureAwait(false);
            running = finished is { } done ? !done : now - (state.LastRunAt ?? now) < TimeSpan.FromSeconds(options.StartGraceSeconds);
        }

        var target = new ScheduleTarget(trigger.Id, trigger.TenantId, trigger.Environment, trigger.WorkflowId);
        var result = await handler.HandleAsync(ScheduleDecider.Instance, stream,
            new ScheduleCommand.Advance(target, schedule, since, now, TimeSpan.FromSeconds(config.CatchupWindowSeconds), TimeSpan.FromSeconds(options.GraceSeconds), policy, running, clock.GetUtcNow(), state.LastExecutionId),
            new EventMetadata(trigger.TenantId, trigger.Environment, "scheduler", $"{trigger.Id}/{now:O}", null), maxAttempts: 3,
            cancellationToken: cancellationToken, snapshot: snapshot).ConfigureAwait(false);
        TriggerMetrics.RecordSchedule(result.NewEvents);
    }

    private sealed record ScheduledTrigger(string TriggerId, string Config, DateTimeOffset CadenceSince, bool Paused, DateTimeOffset? Cursor, bool Buffered);

    [LoggerMessage(Level = LogLevel.Error, Message = "A schedule round failed; the next round retries")]
    private partial void LogRoundFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Schedule trigger {TriggerId} could not be advanced; the next round retries")]
    private partial void LogTriggerFailed(Exception exception, string triggerId);
}
