using Triggers.Modular.Definitions.Model;
using Triggers.Modular.Executions.Contracts;

namespace Triggers.Modular.Definitions.Validation;

/// <summary><c>trigger</c> / <c>triggers[i]</c>: the type, the fields that type uses (SPEC §4), and no fields of other types.
/// With an empty path (a trigger resource's own document) the paths are the field names themselves: <c>event_name</c>.</summary>
internal static class TriggerValidator
{
    public static readonly string[] Types = ["event", "webhook", "schedule", "manual", "api"];

    public static void Validate(TriggerDocument? trigger, string path, ValidationErrors errors)
    {
        if (trigger is null)
        {
            errors.Add(path, "a trigger object is required, such as { \"type\": \"event\", \"event_name\": \"customer.created\" }.");
            return;
        }

        if (string.IsNullOrEmpty(trigger.Type))
        {
            errors.Add(Field(path, "type"), $"type is required; one of {string.Join(", ", Types)}.");
            return;
        }

        if (!Types.Contains(trigger.Type, StringComparer.Ordinal))
        {
            errors.Add(Field(path, "type"), $"unknown trigger type '{Clip(trigger.Type)}'; one of {string.Join(", ", Types)}.");
            return;
        }

        RejectFieldsOfOtherTypes(trigger, path, errors);
        switch (trigger.Type)
        {
            case "event": ValidateEvent(trigger, path, errors); break;
            case "schedule": ScheduleTriggerValidator.Validate(trigger, path, errors); break;
            case "webhook": WebhookTriggerValidator.Validate(trigger, path, errors); break;
        }
    }

    private static void ValidateEvent(TriggerDocument trigger, string path, ValidationErrors errors)
    {
        if (string.IsNullOrEmpty(trigger.EventName))
            errors.Add(Field(path, "event_name"), "event_name is required for an event trigger, such as \"customer.created\".");
        else if (!EventNames.IsValid(trigger.EventName))
            errors.Add(Field(path, "event_name"), $"'{Clip(trigger.EventName)}' is not a valid event name: use {EventNames.SyntaxDescription}.");

        if (trigger.Conditions.IsPresent()) ConditionValidator.ValidateList(trigger.Conditions!.Value, Field(path, "conditions"), errors);
        if (trigger.Schema.IsPresent()) PayloadSchemaCheck.Validate(trigger.Schema!.Value, Field(path, "schema"), errors);
    }

    private static void RejectFieldsOfOtherTypes(TriggerDocument t, string path, ValidationErrors errors)
    {
        Check("event", "event_name", t.EventName is not null);
        Check("event", "conditions", t.Conditions.IsPresent());
        Check("event", "schema", t.Schema.IsPresent());
        Check("schedule", "cron_expression", t.CronExpression is not null);
        Check("schedule", "timezone", t.Timezone is not null);
        Check("schedule", "overlap_policy", t.OverlapPolicy is not null);
        Check("schedule", "catchup_window_seconds", t.CatchupWindowSeconds is not null);
        Check("webhook", "method", t.Method is not null);
        Check("webhook", "auth_type", t.AuthType is not null);
        Check("webhook", "hmac_scheme", t.HmacScheme is not null);
        Check("webhook", "api_key_header", t.ApiKeyHeader is not null);
        Check("webhook", "allowed_origins", t.AllowedOrigins is not null);
        Check("webhook", "response_format", t.ResponseFormat is not null);
        Check("webhook", "rate_limit_per_minute", t.RateLimitPerMinute is not null);

        void Check(string owner, string field, bool present)
        {
            if (present && t.Type != owner)
                errors.Add(Field(path, field), $"'{field}' is not used by this trigger type ({t.Type}); it belongs to '{owner}' triggers. Remove it or change the type.");
        }
    }

    /// <summary><c>trigger.event_name</c>, or <c>event_name</c> when the trigger is the whole document.</summary>
    internal static string Field(string path, string field) => path.Length == 0 ? field : $"{path}.{field}";

    internal static string Clip(string s) => s.Length <= 100 ? s : s[..100] + "…";
}
