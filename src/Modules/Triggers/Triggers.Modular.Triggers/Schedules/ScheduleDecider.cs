using System.Text.Json;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.Triggers.Contracts;

namespace Triggers.Modular.Triggers.Schedules;

/// <summary>The schedule trigger a decision is about.</summary>
internal sealed record ScheduleTarget(string TriggerId, string TenantId, string Environment, string WorkflowId);

/// <summary>A schedule folded from its stream: <see cref="Cursor"/> is the due time of the last cadence slot decided (fired,
/// skipped, buffered or counted missed), from which the next slots are planned.</summary>
internal sealed record ScheduleState(DateTimeOffset? Cursor, bool Paused, string? LastExecutionId, DateTimeOffset? LastRunAt, long RunCount,
    string? BufferedSlot, DateTimeOffset? BufferedAt)
{
    public static ScheduleState Initial { get; } = new(null, false, null, null, 0, null, null);
}

internal abstract record ScheduleCommand
{
    /// <summary>Decide what is due at <see cref="Now"/>. <see cref="Since"/>: when the current cadence began (the trigger's
    /// creation, its last enabling or config change) — nothing before it fires or counts as missed. <see cref="PreviousRunning"/>:
    /// whether the last execution this schedule started is still pending or running. <see cref="At"/>: when the decision is
    /// recorded (default <see cref="Now"/>); the firing loop plans a whole round at its start (<see cref="Now"/>), so the
    /// time the round itself takes never turns a due slot into a missed one.
    /// <see cref="CheckedExecutionId"/>: the execution <see cref="PreviousRunning"/> is about. When the stream's last
    /// execution is another one (a concurrent decision fired a slot after the check — the handler re-decides on a conflict),
    /// that one counts as running: nothing about it was checked.</summary>
    public sealed record Advance(ScheduleTarget Target, CronSchedule Schedule, DateTimeOffset Since, DateTimeOffset Now, TimeSpan Window, TimeSpan Grace,
        string OverlapPolicy, bool PreviousRunning, DateTimeOffset? At = null, string? CheckedExecutionId = null) : ScheduleCommand
    {
        public DateTimeOffset RecordedAt => At is { } at && at > Now ? at : Now;
    }

    public sealed record Pause(ScheduleTarget Target, DateTimeOffset At) : ScheduleCommand;

    public sealed record Resume(ScheduleTarget Target, DateTimeOffset At) : ScheduleCommand;

    /// <summary>Fire once now, outside the cadence (the cursor does not move), as <see cref="ExecutionId"/>.</summary>
    public sealed record RunNow(ScheduleTarget Target, string ExecutionId, DateTimeOffset At) : ScheduleCommand;
}

/// <summary>
/// Pure (ADR 0015). Each fired slot comes with the <see cref="TriggerFired"/> that starts its execution, whose id derives
/// from the trigger and the slot's name, so the same slot can never start two executions. Overlap: with the previous
/// execution still running, <c>skip</c> records the slot skipped, <c>buffer_one</c> holds the first such slot (later ones
/// are skipped) and fires it once the previous run ended, <c>allow_all</c> fires regardless. Within one decision a fired
/// slot counts as running for the slots after it.
/// </summary>
internal sealed class ScheduleDecider : IDecider<ScheduleState, ScheduleCommand, IEvent>
{
    public static ScheduleDecider Instance { get; } = new();

    public ScheduleState Initial => ScheduleState.Initial;

    public static string ExecutionIdFor(string triggerId, string slot) => PrefixedId.From("exec", DeterministicId.Create($"{triggerId}/schedule/{slot}"));

    public IReadOnlyList<IEvent> Decide(ScheduleState state, ScheduleCommand command)
    {
        ArgumentNullException.ThrowIfNull(state);
        return command switch
        {
            ScheduleCommand.Advance a => Advance(state, a),
            ScheduleCommand.Pause p => state.Paused ? [] : Pause(state, p),
            ScheduleCommand.Resume r => !state.Paused ? [] : [new ScheduleResumed(r.Target.TriggerId, r.Target.TenantId, r.Target.Environment, r.At)],
            ScheduleCommand.RunNow n => Fire(n.Target, $"run-now/{n.ExecutionId}", n.At, n.ExecutionId, "run_now", n.At),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown command."),
        };
    }

    /// <summary>A slot waiting (<c>buffer_one</c>) is dropped, recorded skipped: paused slots are not caught up.</summary>
    private static List<IEvent> Pause(ScheduleState state, ScheduleCommand.Pause p)
    {
        var t = p.Target;
        List<IEvent> events = [];
        if (state.BufferedSlot is { } slot)
            events.Add(new ScheduleSlotSkipped(t.TriggerId, t.TenantId, t.Environment, slot, state.BufferedAt!.Value, "paused", state.LastExecutionId, p.At));
        events.Add(new SchedulePaused(t.TriggerId, t.TenantId, t.Environment, p.At));
        return events;
    }

    private static List<IEvent> Advance(ScheduleState state, ScheduleCommand.Advance a)
    {
        var events = new List<IEvent>();
        if (state.Paused) return events;
        var t = a.Target;
        var running = a.PreviousRunning
                      || (a.OverlapPolicy != "allow_all" && state.LastExecutionId is not null && state.LastExecutionId != a.CheckedExecutionId);
        var lastExecution = state.LastExecutionId;
        var buffered = state.BufferedSlot is not null;
        if (buffered && state.BufferedAt < a.Since)
        {
            // Waiting since before the cadence restarted (re-enabled, expression or zone changed): it does not fire later.
            events.Add(new ScheduleSlotSkipped(t.TriggerId, t.TenantId, t.Environment, state.BufferedSlot!, state.BufferedAt!.Value, "cadence_reset",
                lastExecution, a.RecordedAt));
            buffered = false;
        }
        else if (buffered && !running)
        {
            var fired = Fire(t, state.BufferedSlot!, state.BufferedAt!.Value, ExecutionIdFor(t.TriggerId, state.BufferedSlot!), "buffered", a.RecordedAt);
            events.AddRange(fired);
            running = true;
            lastExecution = ((ScheduleSlotFired)fired[0]).ExecutionId;
            buffered = false;
        }

        var from = state.Cursor is { } cursor && cursor > a.Since ? cursor : a.Since;
        var plan = SlotPlanner.Plan(a.Schedule, from, a.Now, a.Window, a.Grace);
        if (plan.MissedCount > 0)
            events.Add(new ScheduleSlotsMissed(t.TriggerId, t.TenantId, t.Environment, plan.MissedCount, plan.MissedCountCapped, plan.FirstMissed!.Value,
                plan.LastMissed!.Value, a.RecordedAt));
        foreach (var slot in plan.Fire)
        {
            var name = a.Schedule.SlotKey(slot);
            if (running && a.OverlapPolicy != "allow_all")
            {
                if (a.OverlapPolicy == "buffer_one" && !buffered)
                {
                    events.Add(new ScheduleSlotBuffered(t.TriggerId, t.TenantId, t.Environment, name, slot, lastExecution ?? "", a.RecordedAt));
                    buffered = true;
                }
                else
                {
                    events.Add(new ScheduleSlotSkipped(t.TriggerId, t.TenantId, t.Environment, name, slot, "overlap", lastExecution, a.RecordedAt));
                }

                continue;
            }

            var id = ExecutionIdFor(t.TriggerId, name);
            events.AddRange(Fire(t, name, slot, id, a.Now - slot > a.Grace ? "catch_up" : "on_time", a.RecordedAt));
            running = true;
            lastExecution = id;
        }

        return events;
    }

    /// <summary>The slot's record and the <see cref="TriggerFired"/> that starts its execution: <c>trigger</c> = <c>{ slot,
    /// scheduled_at }</c>, <c>event</c> = <c>{ id, name: "schedule", slot, scheduled_at, trigger_id }</c>.</summary>
    private static List<IEvent> Fire(ScheduleTarget t, string slot, DateTimeOffset scheduledAt, string executionId, string kind, DateTimeOffset at)
    {
        var payload = JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["slot"] = slot, ["scheduled_at"] = scheduledAt });
        var context = JsonSerializer.SerializeToElement(new Dictionary<string, object>
        {
            ["id"] = $"{t.TriggerId}/{slot}", ["name"] = "schedule", ["slot"] = slot, ["scheduled_at"] = scheduledAt, ["trigger_id"] = t.TriggerId,
            ["kind"] = kind,
        });
        return
        [
            new ScheduleSlotFired(t.TriggerId, t.TenantId, t.Environment, t.WorkflowId, slot, scheduledAt, executionId, kind, at),
            new TriggerFired($"{t.TriggerId}/{slot}", t.TenantId, t.Environment, "schedule", t.TriggerId, t.WorkflowId, executionId, payload, scheduledAt, at,
                "schedule", context),
        ];
    }

    public ScheduleState Evolve(ScheduleState state, IEvent @event) => @event switch
    {
        ScheduleSlotFired { Kind: "run_now" } f => state with { LastExecutionId = f.ExecutionId, LastRunAt = f.At, RunCount = state.RunCount + 1 },
        ScheduleSlotFired f => state with
        {
            Cursor = Later(state.Cursor, f.ScheduledAt), LastExecutionId = f.ExecutionId, LastRunAt = f.At, RunCount = state.RunCount + 1,
            BufferedSlot = f.Kind == "buffered" ? null : state.BufferedSlot, BufferedAt = f.Kind == "buffered" ? null : state.BufferedAt,
        },
        // A waiting slot dropped (paused, cadence restarted) leaves the buffer; a cadence slot skipped moves the cursor.
        ScheduleSlotSkipped s when s.Slot == state.BufferedSlot => state with { BufferedSlot = null, BufferedAt = null },
        ScheduleSlotSkipped s => state with { Cursor = Later(state.Cursor, s.ScheduledAt) },
        ScheduleSlotBuffered b => state with { Cursor = Later(state.Cursor, b.ScheduledAt), BufferedSlot = b.Slot, BufferedAt = b.ScheduledAt },
        ScheduleSlotsMissed m => state with { Cursor = Later(state.Cursor, m.LastScheduledAt) },
        SchedulePaused => state with { Paused = true },
        // Slots that passed while paused are not caught up: the cadence goes on from the resumption.
        ScheduleResumed r => state with { Paused = false, Cursor = Later(state.Cursor, r.At) },
        _ => state,
    };

    private static DateTimeOffset Later(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x > b ? x : b;
}
