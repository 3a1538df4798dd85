using System.Text.Json;
using Triggers.Modular.Executions.Contracts.Steps.Configs;

namespace Triggers.Modular.Executions.Contracts.Steps.BuiltIn;

/// <summary>The <c>http</c> step: calls a URL. Which addresses it may reach is decided when it runs, not here.</summary>
public sealed class HttpStepType : IStepType
{
    public const string TypeName = "http";
    public const int MinTimeoutSeconds = 1;
    public const int MaxTimeoutSeconds = 300;
    public const int MaxUrlLength = 8192;

    public static IReadOnlyList<string> Methods { get; } = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

    private static readonly string[] Keys = ["method", "url", "headers", "body", "timeout_seconds", "expected_status"];

    public string Name => TypeName;

    public string Description => "Sends an HTTP request; the URL, headers and body may use Liquid templates.";

    public string ConfigSchema => HttpStepSchema.Json;

    public IReadOnlyList<StepConfigError> Validate(JsonElement config)
    {
        var errors = new ConfigErrors();
        if (!StepConfig.IsUsableObject(config, "The http step needs a config object with at least \"url\"", errors))
            return errors.ToList();

        StepConfig.RejectUnknownKeys(config, Keys, errors);
        CheckMethod(config, errors);
        HttpUrlRules.Check(config, errors);
        HttpHeaderRules.Check(config, errors);
        if (config.TryGetProperty("body", out var body))
            StepConfig.CheckTemplates(body, "body", errors);
        StepConfig.WholeNumber(config, "timeout_seconds", MinTimeoutSeconds, MaxTimeoutSeconds, errors);
        CheckExpectedStatus(config, errors);
        return errors.ToList();
    }

    private static void CheckMethod(JsonElement config, ConfigErrors errors)
    {
        if (!config.TryGetProperty("method", out var method))
            return;
        if (method.ValueKind != JsonValueKind.String || !Methods.Contains(method.GetString(), StringComparer.Ordinal))
            errors.Add("method", $"\"method\" must be one of {string.Join(", ", Methods)} (upper case); got {StepConfig.Show(method)}.");
    }

    private static void CheckExpectedStatus(JsonElement config, ConfigErrors errors)
    {
        if (!config.TryGetProperty("expected_status", out var statuses))
            return;
        if (statuses.ValueKind != JsonValueKind.Array || statuses.GetArrayLength() == 0)
        {
            errors.Add("expected_status", "\"expected_status\" must be a non-empty list of HTTP status codes such as [200, 201], "
                + $"or be left out; got {StepConfig.Show(statuses)}.");
            return;
        }
        var index = 0;
        foreach (var status in statuses.EnumerateArray())
        {
            if (status.ValueKind != JsonValueKind.Number || !status.TryGetInt32(out var code) || code is < 100 or > 599)
                errors.Add(ConfigPath.Index("expected_status", index), $"An expected status must be a whole number from 100 to 599; got {StepConfig.Show(status)}.");
            index++;
        }
    }
}
