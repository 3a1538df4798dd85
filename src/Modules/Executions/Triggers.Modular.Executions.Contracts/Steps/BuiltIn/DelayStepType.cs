using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Triggers.Modular.Executions.Contracts.Steps.Configs;
using Triggers.Modular.Executions.Contracts.Templates;

namespace Triggers.Modular.Executions.Contracts.Steps.BuiltIn;

/// <summary>The <c>delay</c> step: a durable timer, for a number of seconds or until a moment.</summary>
public sealed partial class DelayStepType : IStepType
{
    public const string TypeName = "delay";
    public const int MinSeconds = 1;
    public const int MaxSeconds = 31_536_000;

    private static readonly string[] Keys = ["seconds", "until"];
    private const string Expected = "The delay step needs a config object with either \"seconds\" (e.g. { \"seconds\": 30 }) "
        + "or \"until\" (e.g. { \"until\": \"2030-01-31T09:00:00Z\" })";

    public string Name => TypeName;

    public string Description => "Waits durably for a number of seconds, or until a date-time (which may be a Liquid template).";

    public string ConfigSchema => """
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "title": "delay step config",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "seconds": { "type": "integer", "minimum": 1, "maximum": 31536000 },
            "until": { "type": "string", "description": "ISO-8601 date-time with an offset, or a Liquid template yielding one." }
          },
          "oneOf": [ { "required": ["seconds"] }, { "required": ["until"] } ]
        }
        """;

    public IReadOnlyList<StepConfigError> Validate(JsonElement config)
    {
        var errors = new ConfigErrors();
        if (!StepConfig.IsUsableObject(config, Expected, errors))
            return errors.ToList();

        StepConfig.RejectUnknownKeys(config, Keys, errors);
        var hasSeconds = config.TryGetProperty("seconds", out _);
        var hasUntil = config.TryGetProperty("until", out var until);
        if (hasSeconds && hasUntil)
            errors.Add("", "Set either \"seconds\" or \"until\", not both.");
        else if (!hasSeconds && !hasUntil)
            errors.Add("", $"{Expected}; got neither.");

        StepConfig.WholeNumber(config, "seconds", MinSeconds, MaxSeconds, errors);
        if (hasUntil)
            CheckUntil(until, errors);
        return errors.ToList();
    }

    private static void CheckUntil(JsonElement until, ConfigErrors errors)
    {
        if (until.ValueKind == JsonValueKind.String && until.GetString() is { } text)
        {
            if (LiquidTemplates.ContainsTemplate(text))
            {
                StepConfig.CheckTemplate(text, "until", errors);
                return;
            }
            if (text.Length <= 40 && IsoDateTime().IsMatch(text)
                && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
                return;
        }
        errors.Add("until", "\"until\" must be an ISO-8601 date-time with an offset, e.g. \"2030-01-31T09:00:00Z\", "
            + $"or a Liquid template such as \"{{{{ trigger.remind_at }}}}\"; got {StepConfig.Show(until)}.");
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDateTime();
}
