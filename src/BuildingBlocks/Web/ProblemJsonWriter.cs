using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Triggers.Modular.BuildingBlocks.Web;

/// <summary>
/// Writes every problem as <c>application/problem+json</c>, whatever the caller's <c>Accept</c> header: an API error
/// must not turn into an empty body (or a developer page) because a client asked for HTML.
/// </summary>
internal sealed class ProblemJsonWriter(IOptions<JsonOptions> json) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        ApiConventions.Customize(context);
        var response = context.HttpContext.Response;
        return new ValueTask(response.WriteAsJsonAsync(context.ProblemDetails, context.ProblemDetails.GetType(), json.Value.SerializerOptions,
            "application/problem+json", context.HttpContext.RequestAborted));
    }
}
