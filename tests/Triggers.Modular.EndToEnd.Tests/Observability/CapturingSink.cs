using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Triggers.Modular.EndToEnd.Tests.Observability;

/// <summary>Keeps every event a host logs; registered as an <see cref="ILogEventSink"/> service, which the host's Serilog reads.</summary>
internal sealed class CapturingSink : ILogEventSink
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public IReadOnlyList<LogEvent> Events => [.. _events];

    public void Emit(LogEvent logEvent) => _events.Enqueue(logEvent);

    /// <summary>The events as the host's <c>json</c> format writes them, one per line.</summary>
    public string AsJson()
    {
        var formatter = new RenderedCompactJsonFormatter();
        using var writer = new StringWriter();
        foreach (var e in _events) formatter.Format(e, writer);
        return writer.ToString();
    }

    /// <summary>The request-completion event of the request to <paramref name="path"/>, once the middleware has written it.</summary>
    public async Task<LogEvent> RequestCompletedAsync(string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            // Framework events carry RequestPath too (from the hosting scope); only the completion event has Elapsed.
            var found = _events.FirstOrDefault(e =>
                e.Properties.ContainsKey("Elapsed")
                && e.Properties.TryGetValue("RequestPath", out var p) && p is ScalarValue { Value: string s } && s == path);
            if (found is not null) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"No request log event for {path}.");
            await Task.Delay(20);
        }
    }
}
