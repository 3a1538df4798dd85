using System.Text;
using System.Text.Json;
using FluentValidation;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.EventStore;
using BadHttpRequestException = Microsoft.AspNetCore.Http.BadHttpRequestException;

namespace Triggers.Modular.BuildingBlocks.Web;

/// <summary>
/// Every exception becomes an RFC 9457 problem: field-level 400s for validation and malformed JSON, the status of
/// an <see cref="ApiErrorException"/>, 413/415 for the body, and a 500 with a trace id (never a stack trace) for the rest.
/// </summary>
internal sealed partial class ApiExceptionHandler(IProblemDetailsService problems, ApiOptions options, ILogger<ApiExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            httpContext.Response.StatusCode = 499; // client closed the request; nobody reads the answer
            return true;
        }

        var problem = exception switch
        {
            ValidationException v => Validation(v.Errors.GroupBy(e => ReferenceEquals(e.CustomState, FieldPath.Verbatim) ? e.PropertyName : FieldPath.ForApi(e.PropertyName))
                .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).Distinct().ToArray())),
            InvalidAppendException a => Validation(new() { [a.Field ?? "body"] = [a.Message] }),
            // Other writers kept changing the same resource through every retry: the caller may simply try again.
            WrongExpectedRevisionException => Problem(409, "concurrent-modification", "Concurrent modification",
                "The resource was changed by other requests at the same moment; retry the request."),
            BadHttpRequestException b => BadRequest(b),
            ApiErrorException e => Problem(e.Status, e.Type, e.Title, e.Message, e.Extensions),
            _ => null,
        };
        if (problem is null)
        {
            LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
            problem = Problem(500, "internal-error", "Internal server error",
                "An unexpected error occurred. Quote the trace_id when reporting it.");
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    private ProblemDetails BadRequest(BadHttpRequestException b)
    {
        switch (b.StatusCode)
        {
            case 413:
                return Problem(413, "body-too-large", "Request body too large", $"The request body is larger than the limit of {options.MaxRequestBodyBytes} bytes.");
            case 415:
                return Problem(415, "unsupported-media-type", "Unsupported media type", "Send the body as JSON with 'Content-Type: application/json'.");
        }

        if (b.InnerException is JsonException json)
        {
            var path = FieldPath.FromJsonPath(json.Path);
            var detail = json.Message.Contains("maximum configured depth", StringComparison.Ordinal)
                ? $"The JSON body nests deeper than the limit of {options.MaxJsonDepth} levels."
                : "The request body is not valid JSON for this operation" + (json.LineNumber is { } line ? $" (line {line + 1}, byte {json.BytePositionInLine + 1})." : ".");
            return Validation(new() { [path] = [detail] }, "malformed-json", "Malformed request body", detail);
        }

        // "Required parameter … was not provided from body" / "Implicit body inferred …": no body where one is needed.
        if (b.Message.Contains("body", StringComparison.OrdinalIgnoreCase))
            return Validation(new() { ["body"] = ["A JSON body is required."] }, "malformed-json", "Malformed request body",
                "A JSON body is required.");
        return Problem(b.StatusCode, "bad-request", "Bad request", Sanitize(b.Message));
    }

    private static ProblemDetails Validation(Dictionary<string, string[]> errors, string type = "validation-error",
        string title = "The request has invalid fields", string? detail = null) =>
        new HttpValidationProblemDetails(errors)
        {
            Status = 400,
            Type = ProblemTypes.Uri(type),
            Title = title,
            Detail = detail ?? $"{errors.Count} field(s) are invalid; see errors.",
        };

    private static ProblemDetails Problem(int status, string type, string title, string detail, IDictionary<string, object?>? extensions = null)
    {
        var problem = new ProblemDetails { Status = status, Type = ProblemTypes.Uri(type), Title = title, Detail = detail };
        if (extensions is not null)
            foreach (var (k, v) in extensions) problem.Extensions[k] = v;
        return problem;
    }

    /// <summary>Framework messages name C# parameters ("Required parameter \"CreateX request\""); keep them short.</summary>
    private static string Sanitize(string message) => message.Length <= 300 ? message : message[..300];

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}

/// <summary>Field paths as the API spells them: <c>steps[0].depends_on</c>.</summary>
public static class FieldPath
{
    private const int MaxLength = 200;

    /// <summary>FluentValidation's <c>Steps[0].DependsOn</c> → <c>steps[0].depends_on</c>.</summary>
    public static string ToSnake(string? propertyName)
    {
        if (string.IsNullOrEmpty(propertyName)) return "body";
        var sb = new StringBuilder();
        foreach (var segment in propertyName.Split('.'))
        {
            if (sb.Length > 0) sb.Append('.');
            var bracket = segment.IndexOf('[', StringComparison.Ordinal);
            var name = bracket < 0 ? segment : segment[..bracket];
            sb.Append(JsonNamingPolicy.SnakeCaseLower.ConvertName(name));
            if (bracket >= 0) sb.Append(segment.AsSpan(bracket));
        }

        return sb.ToString();
    }

    /// <summary>Set as a ValidationFailure's <c>CustomState</c> when its property name is already the client's path, kept as is
    /// even when the client spelt it with capitals.</summary>
    public static readonly object Verbatim = new();

    /// <summary>
    /// A validation failure's property name as the API reports it: C# member paths (<c>Steps[0].DependsOn</c>, from
    /// <c>RuleFor</c>) become snake_case; paths a validator already wrote as the client spelt them (they start lower-case:
    /// <c>steps[0].config.body.customerName</c>) and header names (<c>If-Match</c>) are kept as they are.
    /// </summary>
    public static string ForApi(string? propertyName) =>
        propertyName is { Length: > 0 } p && char.IsUpper(p[0]) && !p.Contains('-', StringComparison.Ordinal) ? ToSnake(p) : propertyName is { Length: > 0 } ? propertyName : "body";

    /// <summary>System.Text.Json's <c>$.steps[0].id</c> → <c>steps[0].id</c>; the whole body is <c>body</c>.</summary>
    public static string FromJsonPath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$") return "body";
        var p = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        return p.Length <= MaxLength ? p : p[..MaxLength] + "…";
    }
}
