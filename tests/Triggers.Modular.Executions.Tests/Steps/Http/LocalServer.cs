using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Triggers.Modular.Executions.Tests.Steps.Http;

internal sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A real Kestrel server on a loopback address and a free port, recording every request it gets. Its behaviour is chosen by
/// the first path segment; tests put a unique tag in the rest of the path to find their own requests:
/// <c>/json</c>, <c>/text</c>, <c>/status/{code}</c>, <c>/slow</c>, <c>/big/{bytes}</c> (with Content-Length),
/// <c>/chunked/{bytes}</c> (without), <c>/hop/{n}/…</c> (302 to <c>/hop/{n-1}/…</c>, JSON at 0),
/// <c>/redirect/{code}?to={url}</c>, and anything else answers 200 <c>{"ok":true}</c>.
/// </summary>
internal sealed class LocalServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests;

    private LocalServer(WebApplication app, ConcurrentQueue<RecordedRequest> requests, string origin)
    {
        _app = app;
        _requests = requests;
        Origin = origin;
    }

    /// <summary><c>http://127.0.0.1:port</c> or <c>http://[::1]:port</c>.</summary>
    public string Origin { get; }

    public int Port => new Uri(Origin).Port;

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public IReadOnlyList<RecordedRequest> RequestsFor(string tag) =>
        [.. _requests.Where(r => r.Path.Contains(tag, StringComparison.Ordinal))];

    public static async Task<LocalServer> StartAsync(string listenUrl = "http://127.0.0.1:0")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(listenUrl);
        var app = builder.Build();
        var requests = new ConcurrentQueue<RecordedRequest>();
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            requests.Enqueue(new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? "", headers, body));
            await AnswerAsync(context);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new LocalServer(app, requests, address.TrimEnd('/'));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static async Task AnswerAsync(HttpContext context)
    {
        var segments = (context.Request.Path.Value ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        var action = segments.ElementAtOrDefault(0) ?? "";
        var argument = segments.ElementAtOrDefault(1) ?? "";
        var response = context.Response;
        switch (action)
        {
            case "json":
                response.Headers["X-Custom"] = "a";
                response.ContentType = "application/json; charset=utf-8";
                await response.WriteAsync("""{ "ok": true, "items": [1, 2] }""");
                break;
            case "text":
                response.ContentType = "text/plain; charset=utf-8";
                await response.WriteAsync("hello");
                break;
            case "broken-json":
                response.ContentType = "application/json";
                await response.WriteAsync("{ not json");
                break;
            case "status":
                response.StatusCode = int.Parse(argument, CultureInfo.InvariantCulture);
                response.ContentType = "text/plain";
                await response.WriteAsync($"status {argument}");
                break;
            case "slow":
                await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
                break;
            case "big":
                var size = int.Parse(argument, CultureInfo.InvariantCulture);
                response.ContentLength = size;
                await response.Body.WriteAsync(new byte[size].AsMemory().Fill('a'));
                break;
            case "chunked":
                var total = int.Parse(argument, CultureInfo.InvariantCulture);
                for (var written = 0; written < total; written += 256)
                {
                    await response.Body.WriteAsync(new byte[Math.Min(256, total - written)].AsMemory().Fill('b'));
                    await response.Body.FlushAsync();
                }
                break;
            case "hop":
                var left = int.Parse(argument, CultureInfo.InvariantCulture);
                if (left == 0)
                {
                    response.ContentType = "application/json";
                    await response.WriteAsync("""{ "arrived": true }""");
                    break;
                }
                response.StatusCode = 302;
                response.Headers.Location = $"/hop/{left - 1}/{string.Join('/', segments.Skip(2))}";
                break;
            case "redirect":
                response.StatusCode = int.Parse(argument, CultureInfo.InvariantCulture);
                response.Headers.Location = context.Request.Query["to"].ToString();
                break;
            default:
                response.ContentType = "application/json";
                await response.WriteAsync("""{ "ok": true }""");
                break;
        }
    }
}

internal static class MemoryFill
{
    public static ReadOnlyMemory<byte> Fill(this Memory<byte> memory, char value)
    {
        memory.Span.Fill((byte)value);
        return memory;
    }
}
