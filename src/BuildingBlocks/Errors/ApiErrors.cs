namespace Triggers.Modular.BuildingBlocks.Errors;

/// <summary>
/// An error a caller can act on, mapped to an RFC 9457 problem by the API's exception handler. Handlers throw
/// these; field-level input errors use FluentValidation's <c>ValidationException</c> instead.
/// </summary>
public abstract class ApiErrorException(int status, string type, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;

    /// <summary>The problem type, appended to <see cref="ProblemTypes.Base"/>.</summary>
    public string Type { get; } = type;

    public string Title { get; } = title;

    /// <summary>Extra members of the problem document (snake_case names).</summary>
    public IDictionary<string, object?> Extensions { get; } = new Dictionary<string, object?>(StringComparer.Ordinal);
}

/// <summary>404. Also what another tenant's or environment's resource answers, so that its existence does not leak.</summary>
public sealed class NotFoundException(string resource, string id)
    : ApiErrorException(404, "not-found", "Not found", $"{resource} '{id}' was not found.");

/// <summary>409: the request conflicts with the resource's current state.</summary>
public sealed class ConflictException(string detail, string type = "conflict")
    : ApiErrorException(409, type, "Conflict", detail);

/// <summary>412: an <c>If-Match</c> precondition did not hold.</summary>
public sealed class PreconditionFailedException(string detail)
    : ApiErrorException(412, "precondition-failed", "Precondition failed", detail);

/// <summary>422: well-formed but cannot be processed (e.g. an idempotency key reused with another body).</summary>
public sealed class UnprocessableException(string detail, string type = "unprocessable")
    : ApiErrorException(422, type, "Unprocessable request", detail);

/// <summary>403: authenticated, but this credential may not do this.</summary>
public sealed class ForbiddenException(string detail)
    : ApiErrorException(403, "forbidden", "Forbidden", detail);

/// <summary>401: no usable credential.</summary>
public sealed class UnauthenticatedException(string detail = "A valid bearer token is required.")
    : ApiErrorException(401, "unauthenticated", "Unauthenticated", detail);

/// <summary>400 that is not about one field (field errors go through FluentValidation's ValidationException).</summary>
public sealed class BadRequestException(string detail, string type = "bad-request")
    : ApiErrorException(400, type, "Bad request", detail);

public static class ProblemTypes
{
    /// <summary>Problem type URIs are <c>{Base}{slug}</c>; each slug is described in docs/api-errors.md.</summary>
    public const string Base = "https://triggers-modular.dev/problems/";

    public static string Uri(string slug) => Base + slug;
}
