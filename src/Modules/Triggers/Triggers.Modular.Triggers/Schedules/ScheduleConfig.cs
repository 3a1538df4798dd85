using System.Text.Json;

namespace Triggers.Modular.Triggers.Schedules;

/// <summary>A schedule trigger's config (SPEC §4) with its defaults applied (validated by the Definitions module when the
/// trigger was created or changed): overlap policy <c>skip</c>, catch-up window 0, zone UTC.</summary>
internal sealed record ScheduleConfig(string? CronExpression, string? Timezone, string OverlapPolicy, int CatchupWindowSeconds)
{
    public static ScheduleConfig From(JsonElement config)
    {
        string? Text(string name) =>
            config.ValueKind == JsonValueKind.Object && config.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        var window = config.ValueKind == JsonValueKind.Object && config.TryGetProperty("catchup_window_seconds", out var w) && w.TryGetInt32(out var s) ? s : 0;
        return new ScheduleConfig(Text("cron_expression"), Text("timezone"), Text("overlap_policy") ?? "skip", window);
    }

    /// <summary>The cadence, or null when the config holds no expression.</summary>
    public CronSchedule? Schedule() => string.IsNullOrWhiteSpace(CronExpression) ? null : CronSchedule.Parse(CronExpression, Timezone);

    /// <summary>Whether a change of a schedule trigger starts its cadence again (slots from then on; the ones before are
    /// neither fired nor counted missed): enabling it, or changing its expression or zone. Renaming it, moving it to another
    /// workflow or changing its overlap policy or catch-up window does not.</summary>
    public static bool RestartsCadence(JsonElement before, bool enabledBefore, JsonElement after, bool enabledAfter)
    {
        if (!enabledBefore && enabledAfter) return true;
        var (b, a) = (From(before), From(after));
        return b.CronExpression != a.CronExpression || (b.Timezone ?? "UTC") != (a.Timezone ?? "UTC");
    }
}
