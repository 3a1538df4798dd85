using System.Text;
using System.Text.Json;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Executions.Contracts.Templates;

namespace Triggers.Modular.Executions.Steps.Http;

/// <summary>One <c>http</c> step attempt with its templates rendered: what to send, how long to wait, what counts as success.</summary>
internal sealed record HttpStepRequest(
    HttpMethod Method,
    Uri Url,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[]? Body,
    string? BodyContentType,
    int TimeoutSeconds,
    IReadOnlySet<int>? ExpectedStatus)
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>Whether <paramref name="status"/> is a success: one of <c>expected_status</c>, else any 2xx.</summary>
    public bool IsExpected(int status) => ExpectedStatus?.Contains(status) ?? status is >= 200 and <= 299;

    public string ExpectedText => ExpectedStatus is null ? "2xx" : string.Join(", ", ExpectedStatus.Order());

    /// <summary>Reads and renders the step's config. Returns the request, or the non-retryable failure that prevents it.</summary>
    public static (HttpStepRequest? Request, StepOutcome.Failed? Failure) Build(StepExecutionContext step, HttpStepOptions options)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(options);
        var config = step.Config;
        if (config.ValueKind != JsonValueKind.Object)
            return Fail("invalid_config", "The http step needs a config object with at least \"url\".");

        var method = HttpMethod.Get;
        if (config.TryGetProperty("method", out var methodValue))
        {
            if (methodValue.ValueKind != JsonValueKind.String || methodValue.GetString() is not { Length: > 0 } name)
                return Fail("invalid_config", "\"method\" must be a string such as \"POST\".");
            method = HttpMethod.Parse(name);
        }

        if (!config.TryGetProperty("url", out var urlValue) || urlValue.ValueKind != JsonValueKind.String)
            return Fail("invalid_config", "\"url\" must be a string.");
        string renderedUrl;
        try
        {
            renderedUrl = Render(urlValue.GetString()!, step.Context).Trim();
        }
        catch (TemplateRenderException ex)
        {
            return Fail("template_error", $"url: {ex.Message}");
        }
        if (!Uri.TryCreate(renderedUrl, UriKind.Absolute, out var url)
            || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
            || url.Host.Length == 0)
        {
            return Fail("invalid_url", $"The url \"{Shorten(renderedUrl)}\" is not an absolute http or https URL.");
        }

        var headers = new List<KeyValuePair<string, string>>();
        string? contentType = null;
        if (config.TryGetProperty("headers", out var headersValue) && headersValue.ValueKind == JsonValueKind.Object)
        {
            foreach (var header in headersValue.EnumerateObject())
            {
                if (header.Value.ValueKind != JsonValueKind.String)
                    return Fail("invalid_config", $"The header \"{header.Name}\" must have a string value.");
                string value;
                try
                {
                    value = Render(header.Value.GetString()!, step.Context);
                }
                catch (TemplateRenderException ex)
                {
                    return Fail("template_error", $"headers.{header.Name}: {ex.Message}");
                }
                if (value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
                    return Fail("invalid_header", $"The header \"{header.Name}\" rendered to a value with a line break or NUL character.");
                if (header.Name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                    contentType = value;
                else if (!IsFramingHeader(header.Name))
                    headers.Add(new(header.Name, value));
            }
        }
        if (!headers.Exists(h => h.Key.Equals(IdempotencyKeyHeader, StringComparison.OrdinalIgnoreCase)))
            headers.Add(new(IdempotencyKeyHeader, step.IdempotencyKey));
        if (options.UserAgent.Length > 0 && !headers.Exists(h => h.Key.Equals("User-Agent", StringComparison.OrdinalIgnoreCase)))
            headers.Add(new("User-Agent", options.UserAgent));

        byte[]? body = null;
        if (config.TryGetProperty("body", out var bodyValue) && bodyValue.ValueKind != JsonValueKind.Null)
        {
            JsonElement rendered;
            try
            {
                rendered = TemplateRenderer.RenderJson(bodyValue, step.Context);
            }
            catch (TemplateRenderException ex)
            {
                return Fail("template_error", $"body: {ex.Message}");
            }
            if (rendered.ValueKind == JsonValueKind.String)
            {
                body = Encoding.UTF8.GetBytes(rendered.GetString()!);
                contentType ??= "text/plain; charset=utf-8";
            }
            else
            {
                body = JsonSerializer.SerializeToUtf8Bytes(rendered);
                contentType ??= "application/json";
            }
        }

        var timeout = options.DefaultTimeoutSeconds;
        if (config.TryGetProperty("timeout_seconds", out var timeoutValue) && timeoutValue.TryGetInt32(out var seconds) && seconds > 0)
            timeout = seconds;

        HashSet<int>? expected = null;
        if (config.TryGetProperty("expected_status", out var expectedValue) && expectedValue.ValueKind == JsonValueKind.Array
            && expectedValue.GetArrayLength() > 0)
        {
            expected = [];
            foreach (var status in expectedValue.EnumerateArray())
            {
                if (status.ValueKind != JsonValueKind.Number || !status.TryGetInt32(out var code))
                    return Fail("invalid_config", $"\"expected_status\" must list whole numbers; got {status.GetRawText()}.");
                expected.Add(code);
            }
        }

        return (new HttpStepRequest(method, url, headers, body, body is null ? null : contentType, timeout, expected), null);
    }

    /// <summary>The URL as shown in messages: without its query, which often carries keys.</summary>
    public static string Show(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return url.GetLeftPart(UriPartial.Path);
    }

    private static string Render(string template, JsonElement context) =>
        LiquidTemplates.ContainsTemplate(template) ? TemplateRenderer.RenderString(template, context) : template;

    // The client frames the message itself; a length or encoding from config would contradict the body it sends.
    private static bool IsFramingHeader(string name) =>
        name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase);

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..197] + "...";

    private static (HttpStepRequest?, StepOutcome.Failed?) Fail(string code, string message) =>
        (null, new StepOutcome.Failed(code, message, Retryable: false));
}
