using Cronos;
using Triggers.Modular.BuildingBlocks.Scheduling;
using Triggers.Modular.Definitions.Model;

namespace Triggers.Modular.Definitions.Validation;

/// <summary>Schedule triggers (SPEC §4, issue 8): a 5-field cron (or 6 with seconds first) that fires, an IANA time zone,
/// the overlap policy and the catch-up window.</summary>
internal static class ScheduleTriggerValidator
{
    public static readonly string[] OverlapPolicies = ["skip", "buffer_one", "allow_all"];

    public static void Validate(TriggerDocument trigger, string path, ValidationErrors errors)
    {
        var zone = ValidateTimeZone(trigger.Timezone, TriggerValidator.Field(path, "timezone"), errors);
        ValidateCron(trigger.CronExpression, zone, TriggerValidator.Field(path, "cron_expression"), errors);

        if (trigger.OverlapPolicy is not null && !OverlapPolicies.Contains(trigger.OverlapPolicy, StringComparer.Ordinal))
            errors.Add(TriggerValidator.Field(path, "overlap_policy"), $"unknown overlap_policy '{TriggerValidator.Clip(trigger.OverlapPolicy)}'; one of {string.Join(", ", OverlapPolicies)} (default skip).");

        if (trigger.CatchupWindowSeconds is < 0 or > DefinitionLimits.MaxCatchupWindowSeconds)
            errors.Add(TriggerValidator.Field(path, "catchup_window_seconds"), $"catchup_window_seconds must be between 0 and {DefinitionLimits.MaxCatchupWindowSeconds} (7 days); it is {trigger.CatchupWindowSeconds}.");
    }

    /// <summary>The zone the expression fires in: UTC when absent, null when invalid (already reported).</summary>
    private static TimeZoneInfo? ValidateTimeZone(string? id, string path, ValidationErrors errors)
    {
        if (id is null) return TimeZoneInfo.Utc;
        if (TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) && zone.HasIanaId) return zone;
        errors.Add(path, $"unknown time zone '{TriggerValidator.Clip(id)}'; use an IANA time zone id such as \"UTC\", \"Europe/Berlin\" or \"America/New_York\" (default UTC).");
        return null;
    }

    private static void ValidateCron(string? expression, TimeZoneInfo? zone, string path, ValidationErrors errors)
    {
        if (string.IsNullOrWhiteSpace(expression))
        {
            errors.Add(path, "cron_expression is required for a schedule trigger, such as \"*/15 * * * *\" (minute hour day-of-month month day-of-week).");
            return;
        }

        if (expression.Length > DefinitionLimits.CronExpressionMaxLength)
        {
            errors.Add(path, $"cron_expression is longer than {DefinitionLimits.CronExpressionMaxLength} characters.");
            return;
        }

        var fields = expression.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        if (fields is not (5 or 6))
        {
            errors.Add(path, $"cron_expression '{expression}' has {fields} field(s); use 5 (minute hour day-of-month month day-of-week) or 6 with seconds first.");
            return;
        }

        StandardCron cron;
        try
        {
            cron = StandardCron.Parse(expression);
        }
        catch (Exception e) when (e is CronFormatException or MissingSeedException or ArgumentException)
        {
            errors.Add(path, $"cron_expression '{expression}' is invalid: {e.Message}");
            return;
        }

        if (zone is null) return;
        var now = DateTime.UtcNow;
        var next = cron.GetNextOccurrence(now, zone);
        if (next is null || next.Value > now.AddYears(DefinitionLimits.CronMustFireWithinYears))
            errors.Add(path, $"cron_expression '{expression}' never fires (no slot in the next {DefinitionLimits.CronMustFireWithinYears} years); check the day-of-month and month, e.g. February has no 30th.");
    }
}
