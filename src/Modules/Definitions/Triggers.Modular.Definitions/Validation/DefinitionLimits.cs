namespace Triggers.Modular.Definitions.Validation;

/// <summary>
/// Bounds a definition must stay within (SPEC §3). The total serialized size is checked by the caller before parsing
/// (the API's request-body limit and JSON depth); these are the limits on the parsed document.
/// </summary>
internal static class DefinitionLimits
{
    public const int NameMaxLength = 200;
    public const int DescriptionMaxLength = 2000;

    public const int MaxSteps = 200;
    public const int StepIdMaxLength = 64;
    public const int StepNameMaxLength = 200;

    public const int MaxTriggers = 20;
    /// <summary>Event names follow <c>EventNames</c> in Executions.Contracts, shared with the Events API and <c>emit_event</c>.</summary>
    public const int EventNameMaxLength = Executions.Contracts.EventNames.MaxLength;
    public const int CronExpressionMaxLength = 200;
    /// <summary>An expression whose next slot is further away than this never fires in practice (<c>0 0 30 2 *</c>).</summary>
    public const int CronMustFireWithinYears = 5;
    public const int MaxCatchupWindowSeconds = 604_800;
    public const int MinToleranceSeconds = 1;
    public const int MaxToleranceSeconds = 3600;
    public const int MaxAllowedOrigins = 100;
    public const int HeaderNameMaxLength = 100;
    public const int SecretMaxLength = 512;

    public const int MaxConditionDepth = 16;
    public const int MaxConditionsPerTrigger = 50;
    public const int ConditionPathMaxLength = 500;
    public const int RegexMaxLength = 1000;

    /// <summary>Containers (objects and arrays) nested inside a step's config, a payload schema or conditions.</summary>
    public const int MaxJsonDepth = 32;

    public const int MinMaxAttempts = 1;
    public const int MaxMaxAttempts = 100;
    public const double MinInitialIntervalSeconds = 0.1;
    public const double MaxInitialIntervalSeconds = 3600;
    public const double MinBackoffCoefficient = 1.0;
    public const double MaxBackoffCoefficient = 10;
    public const double MaxMaxIntervalSeconds = 86_400;
    public const int MaxNonRetryableErrors = 50;
    public const int NonRetryableErrorMaxLength = 100;

    public const int MinTimeoutSeconds = 1;
    public const int MaxTimeoutSeconds = 604_800;

    /// <summary>A longer cycle is named by its first steps and a count, so the message stays readable.</summary>
    public const int MaxCycleStepsNamed = 50;
}
