using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Triggers.Modular.Bench;

/// <summary>
/// The real host (<c>Triggers.Modular.Host.dll</c>) as a child process on Kestrel, 127.0.0.1 and a free port; the
/// first-run admin key and the address are read from its standard output, as a newcomer would read them.
/// </summary>
internal sealed partial class HostProcess : IAsyncDisposable
{
    private const int TailLines = 40;
    private readonly ConcurrentQueue<string> _tail = new();
    private readonly List<Task> _drains = [];
    private long _errorLines;
    private long _warningLines;
    private string? _lastError;
    private bool _captureNext;

    private HostProcess(Process process) => Process = process;

    public Process Process { get; }

    public Uri Url { get; private set; } = null!;

    /// <summary>The first-run admin key of tenant <c>default</c> / environment <c>dev</c> (an operator).</summary>
    public string AdminKey { get; private set; } = null!;

    /// <summary>Lines the host logged at Error/Fatal and at Warning so far (console text format: <c>[hh:mm:ss ERR] …</c>).</summary>
    public (long Errors, long Warnings) LoggedProblems => (Interlocked.Read(ref _errorLines), Interlocked.Read(ref _warningLines));

    public string Tail => string.Join('\n', _tail);

    /// <summary>The last Error/Fatal line other than the request log's, and the line after it (the exception's type and message).</summary>
    public string? LastError => Volatile.Read(ref _lastError);

    [GeneratedRegex(@"tmk_[0-9A-Z]{26}_[0-9a-z]{52}")]
    private static partial Regex Token();

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex Listening();

    /// <summary>Locates the host's build output next to the bench's sources: src/Host/bin/{configuration}/net10.0.</summary>
    public static string LocateDll()
    {
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Triggers.Modular.sln"))) continue;
            var dll = Path.Combine(dir.FullName, "src", "Host", "bin", configuration, "net10.0", "Triggers.Modular.Host.dll");
            return File.Exists(dll) ? dll
                : throw new InvalidOperationException($"{dll} is missing: build it with `dotnet build -c {configuration} src/Host` or pass --host-dll.");
        }

        throw new InvalidOperationException("Repository root (Triggers.Modular.sln) not found above the bench; pass --host-dll.");
    }

    public static async Task<HostProcess> StartAsync(string dll, IReadOnlyDictionary<string, string> settings)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!, // content root: its appsettings.json
            Environment =
            {
                ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["RateLimiting__Enabled"] = "false",
                // Warning, so console logging does not dominate; the lifetime logger stays at Information because the
                // address is read from its "Now listening on" line.
                ["Serilog__MinimumLevel__Default"] = "Warning",
                ["Serilog__MinimumLevel__Override__Microsoft.Hosting.Lifetime"] = "Information",
            },
        };
        foreach (var (key, value) in settings) start.Environment[key] = value;

        var host = new HostProcess(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start."));
        try
        {
            await host.ReadStartupAsync();
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }

        return host;
    }

    private async Task ReadStartupAsync()
    {
        var output = new StringBuilder();
        _drains.Add(DrainAsync(Process.StandardError));
        string? token = null, url = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        while (url is null)
        {
            string? line;
            try
            {
                line = await Process.StandardOutput.ReadLineAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new InvalidOperationException("The host did not report its address within 120 s:\n" + output + Tail);
            }

            if (line is null)
            {
                await Process.WaitForExitAsync(CancellationToken.None);
                await Task.WhenAll(_drains);
                throw new InvalidOperationException($"The host exited early (code {Process.ExitCode}):\n{output}{Tail}");
            }

            output.AppendLine(Token().Replace(line, "tmk_…"));
            Observe(line);
            token ??= Token().Match(line) is { Success: true } m ? m.Value : null;
            url = Listening().Match(line) is { Success: true } l ? l.Groups[1].Value : null;
        }

        AdminKey = token ?? throw new InvalidOperationException("The host printed no first-run key: the store was not empty.");
        Url = new Uri(url);
        _drains.Add(DrainAsync(Process.StandardOutput));
    }

    private async Task DrainAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line) Observe(line);
    }

    private void Observe(string line)
    {
        var clipped = line.Length > 300 ? line[..300] + "…" : line;
        if (_captureNext)
        {
            Volatile.Write(ref _lastError, _lastError + " ⏎ " + clipped);
            _captureNext = false;
        }

        if (line.Contains(" ERR] ", StringComparison.Ordinal) || line.Contains(" FTL] ", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _errorLines);
            // The request log's "HTTP POST … responded 500" says less than the exception logged before it.
            if (!line.Contains(" ERR] HTTP ", StringComparison.Ordinal))
            {
                Volatile.Write(ref _lastError, clipped);
                _captureNext = true;
            }
        }
        else if (line.Contains(" WRN] ", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _warningLines);
        }

        _tail.Enqueue(line.Length > 400 ? line[..400] + "…" : line);
        while (_tail.Count > TailLines) _tail.TryDequeue(out _);
    }

    /// <summary>Kills the host (its own process id; SIGKILL on Linux) and waits for it.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync(CancellationToken.None);
            await Task.WhenAll(_drains).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException)
        {
            Console.Error.WriteLine($"[http] stopping the host: {ex.Message}");
        }
        finally
        {
            Process.Dispose();
        }
    }
}
