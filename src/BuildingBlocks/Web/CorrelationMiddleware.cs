using System.Buffers;
using Microsoft.AspNetCore.Http;
using Serilog.Context;

namespace Triggers.Modular.BuildingBlocks.Web;

/// <summary>
/// Takes the caller's <c>X-Correlation-Id</c> (1–128 of <c>[A-Za-z0-9._:-]</c>) or makes one, echoes it on the
/// response, and puts it on every log line of the request and into the metadata of every event it causes.
/// </summary>
internal sealed class CorrelationMiddleware(RequestDelegate next)
{
    public const string Header = "X-Correlation-Id";
    private const string ItemKey = "correlation_id";
    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");

    public static string? Get(HttpContext context) => context.Items.TryGetValue(ItemKey, out var value) ? value as string : null;

    public async Task InvokeAsync(HttpContext context)
    {
        var supplied = context.Request.Headers[Header].ToString();
        var id = supplied.Length is > 0 and <= 128 && !supplied.AsSpan().ContainsAnyExcept(Allowed)
            ? supplied
            : Guid.CreateVersion7().ToString("N");
        context.Items[ItemKey] = id;
        context.Response.Headers[Header] = id;
        using (LogContext.PushProperty(ItemKey, id))
            await next(context);
    }
}
