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
}

/// <summary>
/// The schedule firing loop (ADR 0015), on every host instance: each round reads the enabled schedule triggers, and for each
/// whose next slot is due decides on its stream (<see cref="ScheduleDecider"/>) and appends at the revision it read. Two
/// instances deciding the same slot cannot both append it: the loser re-reads, finds it decided, and appends nothing. The
/// cadence of a trigger starts at its last change (creation, enabling, update), so slots of a disabled period are neither
/// fired nor counted missed; slots missed while no host ran are caught up within the trigger's window.
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

    /// <summary>One pass over the enabled schedule triggers (also called by tests).</summary>
    public async Task RoundAsync(CancellationToken cancellationToken)
    {
        List<ScheduledTrigger> triggers;
        await using (var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync(new CommandDefinition(
                $"SELECT trigger_id, tenant_id, environment, workflow_id, config, updated_at FROM {TriggersProjection.Table(database.Dialect)} " +
                "WHERE type = 'schedule' AND enabled = @enabled", new { enabled = true }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            triggers = [.. rows.Select(r => new ScheduledTrigger((string)r.trigger_id, (string)r.tenant_id, (string)r.environment, (string)r.workflow_id,
                (string)r.config, SqlTime.Read(r.updated_at)))];
        }

        foreach (var trigger in triggers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                await AdvanceAsync(trigger, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogTriggerFailed(e, trigger.TriggerId);
            }
        }
    }

    private async Task AdvanceAsync(ScheduledTrigger row, CancellationToken cancellationToken)
    {
        using var document = JsonDocument.Parse(row.Config);
        var config = ScheduleConfig.From(document.RootElement);
        if (config.Schedule() is not { } schedule) return;
        var policy = config.OverlapPolicy;
        var since = row.UpdatedAt;
        var now = clock.GetUtcNow();

        using var scope = scopes.CreateScope();
        var handler = scope.ServiceProvider.GetRequiredService<CommandHandler>();
        var stream = ScheduleEventTypes.StreamFor(row.TriggerId);
        var (state, _) = await handler.LoadAsync(ScheduleDecider.Instance, stream, cancellationToken).ConfigureAwait(false);
        if (state.Paused) return;
        var from = state.Cursor is { } cursor && cursor > since ? cursor : since;
        var nextSlot = schedule.NextAfter(from);
        if (state.BufferedSlot is null && (nextSlot is null || nextSlot > now)) return; // nothing due: no append, no read of executions

        var running = false;
        if (policy != "allow_all" && state.LastExecutionId is { } last)
        {
            var executions = scope.ServiceProvider.GetService<IExecutionsModule>();
            running = executions is not null
                      && (await executions.ListActiveAsync(row.TenantId, row.Environment, row.WorkflowId, cancellationToken).ConfigureAwait(false)).Contains(last);
        }

        var target = new ScheduleTarget(row.TriggerId, row.TenantId, row.Environment, row.WorkflowId);
        var result = await handler.HandleAsync(ScheduleDecider.Instance, stream,
            new ScheduleCommand.Advance(target, schedule, since, now, TimeSpan.FromSeconds(config.CatchupWindowSeconds), TimeSpan.FromSeconds(options.GraceSeconds), policy, running),
            new EventMetadata(row.TenantId, row.Environment, "scheduler", $"{row.TriggerId}/{now:O}", null), maxAttempts: 3,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var e in result.NewEvents)
        {
            switch (e)
            {
                case ScheduleSlotFired f:
                    TriggerMetrics.ScheduleSlotsFired.Add(1, new KeyValuePair<string, object?>("kind", f.Kind));
                    TriggerMetrics.ScheduleFireLag.Record((f.At - f.ScheduledAt).TotalSeconds);
                    break;
                case ScheduleSlotSkipped:
                    TriggerMetrics.ScheduleSlotsSkipped.Add(1);
                    break;
                case ScheduleSlotsMissed m:
                    TriggerMetrics.ScheduleSlotsMissed.Add(m.Count);
                    break;
            }
        }
    }

    private sealed record ScheduledTrigger(string TriggerId, string TenantId, string Environment, string WorkflowId, string Config, DateTimeOffset UpdatedAt);

    [LoggerMessage(Level = LogLevel.Error, Message = "A schedule round failed; the next round retries")]
    private partial void LogRoundFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Schedule trigger {TriggerId} could not be advanced; the next round retries")]
    private partial void LogTriggerFailed(Exception exception, string triggerId);
}
