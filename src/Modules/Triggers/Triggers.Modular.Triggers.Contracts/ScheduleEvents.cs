using Triggers.Modular.BuildingBlocks.Aggregates;

namespace Triggers.Modular.Triggers.Contracts;

// Integration events of schedule triggers: stream schedule-{trg_id}, one per schedule trigger (ADR 0015). A fired slot is
// appended together with the TriggerFired (type "schedule") that starts its execution. Slot is the slot's name, its local
// wall-clock time in the schedule's zone with the offset then ("2026-11-01T01:30:00-04:00"); ScheduledAt the instant it was due. Names are stable
// (see ScheduleEventTypes); never rename them.

/// <summary>A slot fired: <see cref="ExecutionId"/> derives from the trigger and the slot. <see cref="Kind"/> is
/// <c>on_time</c>, <c>catch_up</c> (late, within the window, after downtime), <c>buffered</c> (held by
/// <c>buffer_one</c> until the previous run ended) or <c>run_now</c> (outside the cadence; the cursor does not move).</summary>
public sealed record ScheduleSlotFired(string TriggerId, string TenantId, string Environment, string WorkflowId, string Slot, DateTimeOffset ScheduledAt,
    string ExecutionId, string Kind, DateTimeOffset At) : IEvent;

/// <summary>A slot did not fire. <see cref="Reason"/>: <c>overlap</c> — the trigger's previous execution
/// (<see cref="RunningExecutionId"/>) was still running (policy <c>skip</c>, or <c>buffer_one</c> with a slot already
/// waiting); <c>paused</c> or <c>cadence_reset</c> — a slot waiting under <c>buffer_one</c> was dropped because the schedule
/// was paused, or its cadence restarted (re-enabled, expression or zone changed).</summary>
public sealed record ScheduleSlotSkipped(string TriggerId, string TenantId, string Environment, string Slot, DateTimeOffset ScheduledAt, string Reason,
    string? RunningExecutionId, DateTimeOffset At) : IEvent;

/// <summary>A slot is waiting for the previous execution to end (policy <c>buffer_one</c>; at most one waits).</summary>
public sealed record ScheduleSlotBuffered(string TriggerId, string TenantId, string Environment, string Slot, DateTimeOffset ScheduledAt,
    string RunningExecutionId, DateTimeOffset At) : IEvent;

/// <summary>Slots older than the catch-up window after downtime: <see cref="Count"/> of them (exact unless
/// <see cref="CountCapped"/>), from <see cref="FirstScheduledAt"/> to <see cref="LastScheduledAt"/>; none of them fires.</summary>
public sealed record ScheduleSlotsMissed(string TriggerId, string TenantId, string Environment, long Count, bool CountCapped, DateTimeOffset FirstScheduledAt,
    DateTimeOffset LastScheduledAt, DateTimeOffset At) : IEvent;

/// <summary>The schedule stopped firing (its slots pass unfired and are not caught up).</summary>
public sealed record SchedulePaused(string TriggerId, string TenantId, string Environment, DateTimeOffset At) : IEvent;

/// <summary>The schedule fires again from its next slot after <see cref="At"/>.</summary>
public sealed record ScheduleResumed(string TriggerId, string TenantId, string Environment, DateTimeOffset At) : IEvent;

public static class ScheduleEventTypes
{
    public const string Category = "schedule";
    public const string SlotFired = "triggers.schedule_slot_fired";
    public const string SlotSkipped = "triggers.schedule_slot_skipped";
    public const string SlotBuffered = "triggers.schedule_slot_buffered";
    public const string SlotsMissed = "triggers.schedule_slots_missed";
    public const string Paused = "triggers.schedule_paused";
    public const string Resumed = "triggers.schedule_resumed";

    public static string StreamFor(string triggerId) => $"{Category}-{triggerId}";

    public static EventTypeRegistry Register(EventTypeRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry
            .Register<ScheduleSlotFired>(SlotFired)
            .Register<ScheduleSlotSkipped>(SlotSkipped)
            .Register<ScheduleSlotBuffered>(SlotBuffered)
            .Register<ScheduleSlotsMissed>(SlotsMissed)
            .Register<SchedulePaused>(Paused)
            .Register<ScheduleResumed>(Resumed);
    }
}
