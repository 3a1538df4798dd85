using Triggers.Modular.Triggers.Contracts;
using System.Diagnostics.Metrics;

namespace Triggers.Modular.Triggers;

/// <summary>Meter <c>Triggers.Modular.Triggers</c>.</summary>
internal static class TriggerMetrics
{
    public static readonly Meter Meter = new("Triggers.Modular.Triggers");

    public static readonly Counter<long> EventsReceived = Meter.CreateCounter<long>("events_received",
        description: "Events sent to the events API, by outcome (accepted; rejected: a batch item that failed validation).");

    public static readonly Counter<long> EventsEmitted = Meter.CreateCounter<long>("events_emitted",
        description: "emit_event steps, by outcome (emitted; invalid: the rendered event failed the events API's rules; depth_exceeded: the loop guard refused it).");

    public static readonly Counter<long> EventsRouted = Meter.CreateCounter<long>("events_routed",
        description: "Trigger firings: an accepted event that started (or will start) a workflow through one trigger.");

    public static readonly Counter<long> EventsUnrouted = Meter.CreateCounter<long>("events_unrouted",
        description: "Accepted events that no enabled trigger listens to.");

    public static readonly Counter<long> TriggersSkipped = Meter.CreateCounter<long>("triggers_skipped",
        description: "Triggers that listened to an event but did not fire, by reason (schema_failed, condition_false, definition_disabled, definition_missing).");

    public static readonly Counter<long> WebhookRequests = Meter.CreateCounter<long>("webhook_requests",
        description: "Requests to webhook triggers, by outcome: accepted, duplicate (a delivery id seen before), or the refusal's status (400, 401, 403, 404, 405, 409, 413, 429).");

    public static readonly Histogram<double> WebhookVerification = Meter.CreateHistogram<double>("webhook_verification_duration", unit: "s",
        description: "Time to check a webhook request's credentials (secret look-up and signature), by auth_type.");

    public static readonly Counter<long> ScheduleSlotsFired = Meter.CreateCounter<long>("schedule_slots_fired",
        description: "Schedule slots fired, by kind (on_time, catch_up, buffered, run_now).");

    public static readonly Counter<long> ScheduleSlotsSkipped = Meter.CreateCounter<long>("schedule_slots_skipped",
        description: "Schedule slots not fired, by reason: overlap (the previous execution still running), paused or cadence_reset (a waiting buffer_one slot dropped).");

    public static readonly Counter<long> ScheduleSlotsMissed = Meter.CreateCounter<long>("schedule_slots_missed",
        description: "Schedule slots older than the catch-up window after downtime, recorded as missed.");

    public static readonly Histogram<double> ScheduleFireLag = Meter.CreateHistogram<double>("schedule_fire_lag", unit: "s",
        description: "From a slot's scheduled time to its firing (cadence slots: on time, caught up, buffered).");

    /// <summary>Counts what a decision appended: slots fired (by kind) with their lag, skipped, missed.</summary>
    public static void RecordSchedule(IEnumerable<object> appended)
    {
        ArgumentNullException.ThrowIfNull(appended);
        foreach (var e in appended)
        {
            switch (e)
            {
                case ScheduleSlotFired f:
                    ScheduleSlotsFired.Add(1, new KeyValuePair<string, object?>("kind", f.Kind));
                    if (f.Kind != "run_now") ScheduleFireLag.Record((f.At - f.ScheduledAt).TotalSeconds); // a run now has no due time
                    break;
                case ScheduleSlotSkipped skipped:
                    ScheduleSlotsSkipped.Add(1, new KeyValuePair<string, object?>("reason", skipped.Reason));
                    break;
                case ScheduleSlotsMissed m:
                    ScheduleSlotsMissed.Add(m.Count);
                    break;
            }
        }
    }
}
