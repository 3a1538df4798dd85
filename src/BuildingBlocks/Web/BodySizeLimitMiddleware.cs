using Microsoft.AspNetCore.Http;

namespace Triggers.Modular.BuildingBlocks.Web;

/// <summary>
/// 413 for a body over <see cref="ApiOptions.MaxRequestBodyBytes"/>, before any endpoint reads it: at once from
/// <c>Content-Length</c>, or, for a chunked body, after buffering at most the limit. The same answer under Kestrel
/// and the test server, which does not enforce Kestrel's limit. Paths registered as <see cref="OwnBodyLimit"/> are passed
/// through: their endpoint enforces its own limit (and answers its own 413).
/// </summary>
internal sealed class BodySizeLimitMiddleware(RequestDelegate next, ApiOptions options, IEnumerable<OwnBodyLimit> exemptions)
{
    private readonly OwnBodyLimit[] _exemptions = [.. exemptions];

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        foreach (var exemption in _exemptions)
        {
            if (request.Path.StartsWithSegments(exemption.PathPrefix, StringComparison.OrdinalIgnoreCase))
            {
                await next(context);
                return;
            }
        }

        var limit = options.MaxRequestBodyBytes;
        if (request.ContentLength is { } length)
        {
            if (length > limit)
            {
                await TooLargeAsync(context, limit);
                return;
            }
        }
        else if (HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method))
        {
            var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    await TooLargeAsync(context, limit);
                    return;
                }

                buffer.Write(chunk, 0, read);
            }

            buffer.Position = 0;
            request.Body = buffer;
            request.ContentLength = buffer.Length;
        }

        await next(context);
    }

    private static Task TooLargeAsync(HttpContext context, long limit) =>
        ProblemResponses.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "body-too-large", "Request body too large",
            $"The request body is larger than the limit of {limit} bytes.", new Dictionary<string, object?> { ["limit_bytes"] = limit });
}

/// <summary>Requests under <see cref="PathPrefix"/> (such as <c>/api/webhooks</c>) are not limited by
/// <see cref="ApiOptions.MaxRequestBodyBytes"/>: their endpoint reads the body within a limit of its own. Register as a singleton.</summary>
public sealed record OwnBodyLimit(string PathPrefix);
