using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;

namespace Triggers.Modular.EndToEnd.Tests.Runtime;

/// <summary>
/// The real host as a separate process (<c>dotnet Triggers.Modular.Host.dll</c>), configured through environment variables,
/// on Kestrel at 127.0.0.1 on a free port — as in <c>Platform/FirstRunTests</c>. <see cref="Kill"/> is SIGKILL of the whole
/// process tree: no shutdown hooks run, so only what the host had made durable survives.
/// </summary>
internal sealed partial class HostProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _token;

    private HostProcess(Process process) => _process = process;

    [GeneratedRegex(@"tmk_[0-9A-Z]{26}_[0-9a-z]{52}")]
    private static partial Regex Token();

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex Listening();

    public string Url { get; private set; } = "";

    /// <summary>The first-run admin key, when this start created it (an empty store).</summary>
    public string? FirstRunToken => Volatile.Read(ref _token);

    /// <summary>Everything the host wrote so far (stdout and stderr), for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>The last <paramref name="chars"/> characters of <see cref="Output"/>.</summary>
    public string OutputTail(int chars = 4000)
    {
        var output = Output;
        return output.Length <= chars ? output : output[^chars..];
    }

    public bool HasExited => _process.HasExited;

    public int ProcessId => _process.Id;

    public static async Task<HostProcess> StartAsync(IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Triggers.Modular.Host.dll") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["RateLimiting__Enabled"] = "false";
        start.Environment["Serilog__MinimumLevel__Override__Npgsql"] = "Warning";
        foreach (var (k, v) in environment) start.Environment[k] = v;

        var host = new HostProcess(Process.Start(start)!);
        host.Drain(host._process.StandardOutput, watch: true);
        host.Drain(host._process.StandardError, watch: false);
        try
        {
            host.Url = await host._listening.Task.WaitAsync(TimeSpan.FromSeconds(90));
        }
        catch (Exception ex)
        {
            var output = host.Output;
            host.Dispose();
            throw new InvalidOperationException($"The host did not start listening ({ex.GetType().Name}):\n{output}", ex);
        }

        return host;
    }

    /// <summary>Keeps reading a stream to its end (a full pipe would block the host), watching for the key and the address.</summary>
    private void Drain(StreamReader reader, bool watch) => _ = Task.Run(async () =>
    {
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                lock (_output) _output.AppendLine(line);
                if (!watch) continue;
                if (Token().Match(line) is { Success: true } token) Interlocked.CompareExchange(ref _token, token.Value, null);
                if (Listening().Match(line) is { Success: true } url) _listening.TrySetResult(url.Groups[1].Value);
            }
        }
        catch (Exception)
        {
            // the process went away
        }

        _listening.TrySetException(new InvalidOperationException("The host exited early."));
    });

    public HttpClient Client(string token)
    {
        var client = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>SIGKILL on Linux, the whole tree.</summary>
    public void Kill()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }

        _process.Dispose();
    }
}
