using Triggers.Modular.Definitions.Model;

namespace Triggers.Modular.Definitions.Validation;

/// <summary>Retry policy bounds, for the definition and for each step; every field is optional.</summary>
internal static class RetryPolicyValidator
{
    public static void Validate(RetryPolicyDocument? policy, string path, ValidationErrors errors)
    {
        if (policy is null) return;

        if (policy.MaxAttempts is { } attempts && attempts is < DefinitionLimits.MinMaxAttempts or > DefinitionLimits.MaxMaxAttempts)
            errors.Add($"{path}.max_attempts", $"max_attempts must be between {DefinitionLimits.MinMaxAttempts} and {DefinitionLimits.MaxMaxAttempts}; it is {attempts}.");

        var initialOk = true;
        if (policy.InitialIntervalSeconds is { } initial && !(initial >= DefinitionLimits.MinInitialIntervalSeconds && initial <= DefinitionLimits.MaxInitialIntervalSeconds))
        {
            initialOk = false;
            errors.Add($"{path}.initial_interval_seconds", $"initial_interval_seconds must be between {DefinitionLimits.MinInitialIntervalSeconds} and {DefinitionLimits.MaxInitialIntervalSeconds}; it is {initial}.");
        }

        if (policy.BackoffCoefficient is { } coefficient && !(coefficient >= DefinitionLimits.MinBackoffCoefficient && coefficient <= DefinitionLimits.MaxBackoffCoefficient))
            errors.Add($"{path}.backoff_coefficient", $"backoff_coefficient must be between {DefinitionLimits.MinBackoffCoefficient:0.0} and {DefinitionLimits.MaxBackoffCoefficient}; it is {coefficient}.");

        if (policy.MaxIntervalSeconds is { } max)
        {
            var floor = initialOk ? policy.InitialIntervalSeconds ?? DefinitionLimits.MinInitialIntervalSeconds : DefinitionLimits.MinInitialIntervalSeconds;
            if (!(max >= floor && max <= DefinitionLimits.MaxMaxIntervalSeconds))
                errors.Add($"{path}.max_interval_seconds", $"max_interval_seconds must be at least initial_interval_seconds ({floor}) and at most {DefinitionLimits.MaxMaxIntervalSeconds}; it is {max}.");
        }

        if (policy.NonRetryableErrors is { } nonRetryable)
        {
            if (nonRetryable.Count > DefinitionLimits.MaxNonRetryableErrors)
            {
                errors.Add($"{path}.non_retryable_errors", $"at most {DefinitionLimits.MaxNonRetryableErrors} non_retryable_errors; there are {nonRetryable.Count}.");
                return;
            }

            for (var i = 0; i < nonRetryable.Count; i++)
                if (nonRetryable[i] is not { Length: > 0 and <= DefinitionLimits.NonRetryableErrorMaxLength })
                    errors.Add($"{path}.non_retryable_errors[{i}]", $"each non_retryable_errors entry is an error type name of 1 to {DefinitionLimits.NonRetryableErrorMaxLength} characters.");
        }
    }

    public static void ValidateTimeout(int? timeoutSeconds, string path, ValidationErrors errors)
    {
        if (timeoutSeconds is < DefinitionLimits.MinTimeoutSeconds or > DefinitionLimits.MaxTimeoutSeconds)
            errors.Add(path, $"timeout_seconds must be between {DefinitionLimits.MinTimeoutSeconds} and {DefinitionLimits.MaxTimeoutSeconds} (7 days); it is {timeoutSeconds}.");
    }
}
