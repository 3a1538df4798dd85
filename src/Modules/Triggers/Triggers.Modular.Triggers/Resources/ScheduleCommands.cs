using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Triggers.ReadModel;
using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.Triggers.Contracts;
using Triggers.Modular.Triggers.Domain;
using Triggers.Modular.Triggers.Schedules;

namespace Triggers.Modular.Triggers.Resources;

/// <summary>Pauses or resumes a schedule trigger: paused, its slots pass unfired and are not caught up after resuming.
/// Doing it twice is a no-op.</summary>
internal sealed record SetSchedulePaused(string Id, bool Paused) : ICommand<TriggerDto>, ITenantScoped, IIdempotentCommand;

/// <summary>Runs a schedule trigger now, outside its cadence → the execution id (202).</summary>
internal sealed record RunScheduleNow(string Id) : ICommand<ScheduleRunStarted>, ITenantScoped, IIdempotentCommand;

internal sealed record ScheduleRunStarted(string TriggerId, string ExecutionId);

/// <summary>What <c>GET /api/v1/triggers/{id}</c> shows of a schedule (SPEC §4): <see cref="State"/> <c>active</c>,
/// <c>paused</c> or <c>disabled</c>; <see cref="NextRunAt"/> the next slot (null while paused or disabled).</summary>
internal sealed record ScheduleView(string State, DateTimeOffset? NextRunAt, DateTimeOffset? LastRunAt, long RunCount);

internal static class ScheduleViews
{
    /// <summary>A single trigger's view, from its schedule stream (exact right after any change).</summary>
    public static async Task<ScheduleView?> ForAsync(CommandHandler handler, IStoreDatabase database, TriggerState trigger, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        if (trigger.Type != "schedule") return null;
        var (state, _) = await handler.LoadAsync(ScheduleDecider.Instance, ScheduleEventTypes.StreamFor(trigger.Id), Snapshot(database, trigger.Id),
            cancellationToken).ConfigureAwait(false);
        return Of(trigger.Enabled, ScheduleConfig.From(trigger.Config), state, trigger.CadenceSince, clock.GetUtcNow());
    }

    /// <summary>Where loading a schedule's stream starts: its row in the schedules read model (see
    /// <see cref="SchedulesProjection.SnapshotAsync"/>).</summary>
    public static Func<CancellationToken, Task<(ScheduleState State, long Revision)?>> Snapshot(IStoreDatabase database, string triggerId) =>
        ct => SchedulesProjection.SnapshotAsync(database, triggerId, ct);

    /// <summary>The view of a schedule in <paramref name="state"/> at <paramref name="now"/>; <paramref name="since"/> is when its
    /// cadence began (the trigger's last change). The next run is the first slot after the cursor, or after now when that slot
    /// has passed (a round is about to fire or catch it up).</summary>
    public static ScheduleView Of(bool enabled, ScheduleConfig config, ScheduleState state, DateTimeOffset since, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(state);
        DateTimeOffset? next = null;
        CronSchedule? schedule = null;
        try
        {
            schedule = config.Schedule();
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or Cronos.CronFormatException)
        {
            // Validated when stored, but this machine cannot read it (another time-zone database): no next run to show.
        }

        if (enabled && !state.Paused && schedule is not null)
        {
            var from = state.Cursor is { } cursor && cursor > since ? cursor : since;
            next = schedule.NextAfter(from > now ? from : now.AddTicks(-1));
        }

        return new ScheduleView(!enabled ? "disabled" : state.Paused ? "paused" : "active", next, state.LastRunAt, state.RunCount);
    }
}

internal sealed class ScheduleCommandsHandler(CommandHandler handler, RequestContext context, TimeProvider clock, Webhooks.WebhookUrls urls,
    IStoreDatabase database)
    : ICommandHandler<SetSchedulePaused, TriggerDto>, ICommandHandler<RunScheduleNow, ScheduleRunStarted>
{
    public async ValueTask<TriggerDto> Handle(SetSchedulePaused command, CancellationToken cancellationToken)
    {
        var (scope, trigger) = await LoadScheduleAsync(command.Id, cancellationToken).ConfigureAwait(false);
        var target = new ScheduleTarget(trigger.Id, scope.TenantId, scope.Environment, trigger.WorkflowId);
        ScheduleCommand change = command.Paused ? new ScheduleCommand.Pause(target, clock.GetUtcNow()) : new ScheduleCommand.Resume(target, clock.GetUtcNow());
        var result = await handler.HandleAsync(ScheduleDecider.Instance, ScheduleEventTypes.StreamFor(trigger.Id), change, context.ToMetadata(), maxAttempts: 3,
            cancellationToken: cancellationToken, snapshot: ScheduleViews.Snapshot(database, trigger.Id)).ConfigureAwait(false);
        TriggerMetrics.RecordSchedule(result.NewEvents);
        return trigger.ToDto(urls) with
        {
            Schedule = ScheduleViews.Of(trigger.Enabled, ScheduleConfig.From(trigger.Config), result.State, trigger.CadenceSince, clock.GetUtcNow()),
        };
    }

    public async ValueTask<ScheduleRunStarted> Handle(RunScheduleNow command, CancellationToken cancellationToken)
    {
        var (scope, trigger) = await LoadScheduleAsync(command.Id, cancellationToken).ConfigureAwait(false);
        if (!trigger.Enabled)
            throw new ConflictException($"Trigger '{trigger.Id}' is disabled; enable it to run it.", "trigger-disabled");
        // With an Idempotency-Key the execution id follows from it: a retried run finds its own execution.
        var executionId = context.IdempotencyKey is { } key
            ? PrefixedId.From("exec", DeterministicId.Create($"{scope.TenantId}/{scope.Environment}/{key}/RunScheduleNow/{trigger.Id}"))
            : PrefixedId.New("exec", clock);
        var result = await handler.HandleAsync(ScheduleDecider.Instance, ScheduleEventTypes.StreamFor(trigger.Id),
            new ScheduleCommand.RunNow(new ScheduleTarget(trigger.Id, scope.TenantId, scope.Environment, trigger.WorkflowId), executionId, clock.GetUtcNow()),
            context.ToMetadata(), maxAttempts: 3, cancellationToken: cancellationToken, snapshot: ScheduleViews.Snapshot(database, trigger.Id))
            .ConfigureAwait(false);
        TriggerMetrics.RecordSchedule(result.NewEvents);
        return new ScheduleRunStarted(trigger.Id, executionId);
    }

    private async Task<(TenantScope Scope, TriggerState Trigger)> LoadScheduleAsync(string id, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        var trigger = await handler.LoadOwnedAsync(scope, id, cancellationToken).ConfigureAwait(false);
        if (trigger.Type != "schedule")
            throw new ConflictException($"Trigger '{trigger.Id}' is a {trigger.Type} trigger; pause, resume and run apply to schedule triggers.", "not-a-schedule");
        return (scope, trigger);
    }
}
