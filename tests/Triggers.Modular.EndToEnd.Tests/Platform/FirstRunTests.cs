using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace Triggers.Modular.EndToEnd.Tests.Platform;

/// <summary>A newcomer's first minutes, against the real host process on Kestrel (127.0.0.1, a free port).</summary>
public sealed partial class FirstRunTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "tm-e2e-firstrun", Guid.NewGuid().ToString("N"));

    [GeneratedRegex(@"tmk_[0-9A-Z]{26}_[0-9a-z]{52}")]
    private static partial Regex Token();

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex Listening();

    [Fact]
    public async Task Given_an_empty_store_When_the_host_starts_Then_it_prints_an_admin_key_once_that_works_and_survives_a_restart()
    {
        var (token, url, output) = await StartHostAsync();
        Assert.NotNull(token);
        Assert.Single(Token().Matches(output).Select(m => m.Value).Distinct());

        using var http = new HttpClient { BaseAddress = new Uri(url) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(new Uri("/api/v1/me", UriKind.Relative))).StatusCode);
        using var me = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/v1/me", UriKind.Relative));
        me.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await http.SendAsync(me);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("default", body["tenant_id"]!.GetValue<string>());
        Assert.Equal("dev", body["environment"]!.GetValue<string>());
        StopHost();

        // Restarted on the same store: no new key, and the first one still works.
        var (again, url2, output2) = await StartHostAsync();
        Assert.Null(again);
        Assert.Empty(Token().Matches(output2));
        using var http2 = new HttpClient { BaseAddress = new Uri(url2) };
        using var me2 = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/v1/me", UriKind.Relative));
        me2.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await http2.SendAsync(me2)).StatusCode);
        StopHost();
    }

    private Process? _process;

    private async Task<(string? Token, string Url, string Output)> StartHostAsync()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Triggers.Modular.Host.dll") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
            Environment =
            {
                ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["EventStore__Sqlite__Path"] = Path.Combine(_folder, "store.db"),
            },
        };
        _process = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        string? token = null, url = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (url is null)
        {
            var line = await _process.StandardOutput.ReadLineAsync(timeout.Token)
                ?? throw new InvalidOperationException("The host exited early:\n" + output + await _process.StandardError.ReadToEndAsync());
            output.AppendLine(line);
            token ??= Token().Match(line) is { Success: true } m ? m.Value : null;
            url = Listening().Match(line) is { Success: true } l ? l.Groups[1].Value : null;
        }

        _ = _process.StandardOutput.ReadToEndAsync(CancellationToken.None); // keep draining
        return (token, url, output.ToString());
    }

    /// <summary>SIGKILL on Linux: no shutdown hooks; what the host acknowledged must survive it.</summary>
    private void StopHost()
    {
        if (_process is null) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        StopHost();
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }
}
