using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Triggers.Modular.EndToEnd.Tests.Runtime;

/// <summary>
/// The system the <c>http</c> steps call: a real Kestrel server on 127.0.0.1 (a free port) in the test process. It
/// records every request (path, <c>Idempotency-Key</c>, what it answered); it can hold requests to some paths until
/// released, and answer 503 to the first N calls of each key on some paths.
/// </summary>
internal sealed class TargetServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _callsPerKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _failFirst = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _holdPaths = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _heldKeys = new(StringComparer.Ordinal);
    private TaskCompletionSource _release = NewGate();
    private int _heldNow;

    private TargetServer(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    /// <summary>Every request, in arrival order.</summary>
    public ConcurrentQueue<TargetRequest> Requests { get; } = new();

    /// <summary>Requests waiting on the hold right now.</summary>
    public int HeldNow => Volatile.Read(ref _heldNow);

    /// <summary>Keys that were held at least once.</summary>
    public ICollection<string> HeldKeys => _heldKeys.Keys;

    public static async Task<TargetServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.Sources.Clear(); // not the Host's appsettings.json copied next to the tests
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        var server = new TargetServer(app);
        app.MapMethods("/{**path}", ["GET", "POST", "PUT", "PATCH", "DELETE"], server.HandleAsync);
        await app.StartAsync();
        server.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()
            .TrimEnd('/');
        return server;
    }

    /// <summary>From now on, requests to these paths wait until <see cref="Release"/>.</summary>
    public void Hold(params string[] paths)
    {
        if (_release.Task.IsCompleted) _release = NewGate();
        foreach (var path in paths) _holdPaths[path] = 0;
    }

    /// <summary>Lets every held request go and stops holding.</summary>
    public void Release()
    {
        _holdPaths.Clear();
        _release.TrySetResult();
    }

    /// <summary>The first <paramref name="count"/> calls of each key to <paramref name="path"/> get 503.</summary>
    public void FailFirst(string path, int count) => _failFirst[path] = count;

    public int CallsOf(string key) => _callsPerKey.TryGetValue(key, out var n) ? n : 0;

    public int Count(string path, int status) => Requests.Count(r => r.Path == path && r.Status == status);

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var key = context.Request.Headers["Idempotency-Key"].ToString();
        await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted).ConfigureAwait(false);
        var call = _callsPerKey.AddOrUpdate(key, 1, (_, n) => n + 1);

        if (_holdPaths.ContainsKey(path))
        {
            _heldKeys[key] = 0;
            var gate = _release.Task;
            Interlocked.Increment(ref _heldNow);
            try
            {
                await gate.WaitAsync(context.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Requests.Enqueue(new TargetRequest(path, key, call, 0, DateTimeOffset.UtcNow)); // the caller went away
                return;
            }
            finally
            {
                Interlocked.Decrement(ref _heldNow);
            }
        }

        var status = _failFirst.TryGetValue(path, out var failures) && call <= failures ? 503 : 200;
        Requests.Enqueue(new TargetRequest(path, key, call, status, DateTimeOffset.UtcNow));
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new { path, key, call, ok = status == 200 }, context.RequestAborted).ConfigureAwait(false);
    }

    private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        _release.TrySetResult();
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>One request the target saw. <see cref="Status"/> 0: the caller went away while it was held.</summary>
internal sealed record TargetRequest(string Path, string Key, int Call, int Status, DateTimeOffset At);
