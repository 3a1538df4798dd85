using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Executions.Contracts.Steps.BuiltIn;
using Triggers.Modular.Executions.Contracts.Templates;

namespace Triggers.Modular.Executions.Steps.BuiltIn;

/// <summary>
/// Runs <c>delay</c> steps as a durable timer: <c>{ "seconds": 30 }</c> sleeps until the step's
/// <see cref="StepExecutionContext.Now"/> plus 30 s; <c>{ "until": "2030-01-31T09:00:00Z" }</c> (or a Liquid template that
/// renders to such a date-time, with an offset) sleeps until that instant, and completes at once when it has already passed.
/// Either way the output is <c>{ "until": "&lt;ISO 8601 UTC&gt;" }</c>. A config or rendered value that is not usable fails
/// the step at once with <c>invalid_config</c>; a template that fails to render, with <c>template_error</c>.
/// </summary>
internal sealed partial class DelayStepHandler : IStepHandler
{
    public string StepType => DelayStepType.TypeName;

    /// <summary>Pure: renders templates against the context and touches nothing else.</summary>
    public bool RunsInline => true;

    public ValueTask<StepOutcome> ExecuteAsync(StepExecutionContext step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        return ValueTask.FromResult(Decide(step));
    }

    private static StepOutcome Decide(StepExecutionContext step)
    {
        var config = step.Config;
        if (config.ValueKind != JsonValueKind.Object)
            return Invalid("The delay step needs a config object with \"seconds\" or \"until\".");

        var hasSeconds = config.TryGetProperty("seconds", out var seconds);
        var hasUntil = config.TryGetProperty("until", out var until);
        if (hasSeconds == hasUntil)
            return Invalid("The delay step needs either \"seconds\" or \"until\", not both and not neither.");

        var now = step.Now.ToUniversalTime();
        if (hasSeconds)
        {
            if (seconds.ValueKind != JsonValueKind.Number || !seconds.TryGetInt64(out var count)
                || count is < DelayStepType.MinSeconds or > DelayStepType.MaxSeconds)
                return Invalid($"\"seconds\" must be a whole number from {DelayStepType.MinSeconds} to {DelayStepType.MaxSeconds}; got {seconds.GetRawText()}.");
            return Sleep(now.AddSeconds(count));
        }

        if (until.ValueKind != JsonValueKind.String)
            return Invalid($"\"until\" must be an ISO-8601 date-time with an offset; got {until.GetRawText()}.");

        string text;
        try
        {
            text = TemplateRenderer.RenderString(until.GetString()!, step.Context).Trim();
        }
        catch (TemplateRenderException e)
        {
            return new StepOutcome.Failed("template_error", $"until: {e.Message}", Retryable: false);
        }

        if (!TryParseInstant(text, out var instant))
            return Invalid($"\"until\" must be an ISO-8601 date-time with an offset, such as \"2030-01-31T09:00:00Z\"; got \"{Clip(text)}\".");

        instant = instant.ToUniversalTime();
        return instant <= now ? new StepOutcome.Completed(Output(instant)) : Sleep(instant);
    }

    private static StepOutcome.Sleep Sleep(DateTimeOffset until) => new(until, Output(until));

    private static StepOutcome Invalid(string message) => new StepOutcome.Failed("invalid_config", message, Retryable: false);

    private static JsonElement Output(DateTimeOffset until) =>
        JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["until"] = FormatUtc(until) });

    /// <summary>ISO 8601 in UTC, with fractions of a second only when there are any: <c>2030-01-31T09:00:00Z</c>.</summary>
    internal static string FormatUtc(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static bool TryParseInstant(string text, out DateTimeOffset instant)
    {
        instant = default;
        return text.Length <= 40 && IsoDateTime().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out instant);
    }

    private static string Clip(string text) => text.Length <= 60 ? text : string.Concat(text.AsSpan(0, 60), "…");

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDateTime();
}
