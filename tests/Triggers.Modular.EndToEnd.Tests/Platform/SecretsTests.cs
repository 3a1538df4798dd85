using System.Net;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.EndToEnd.Tests.Support;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Platform;

/// <summary>Key material never appears in logs, events or read models.</summary>
public sealed class SecretsTests
{
    [Fact]
    public async Task Given_keys_issued_used_and_revoked_over_http_When_logs_events_and_tables_are_searched_Then_no_token_or_secret_appears()
    {
        var sink = new Observability.CapturingSink();
        await using var host = await ApiHost.StartAsync(
            settings: new() { ["Serilog:MinimumLevel:Default"] = "Debug" },
            services: s => s.AddSingleton<Serilog.Core.ILogEventSink>(sink));
        var operatorKey = await host.IssueKeyAsync("default", "dev", Permissions.Admin);
        var admin = host.WithToken(operatorKey.Token);

        var issued = await admin.PostJsonAsync("/api/v1/keys", new { name = "ci", permissions = new[] { "events:write" } });
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        Assert.Equal("no-store", issued.Headers.CacheControl?.ToString());
        var body = await issued.JsonAsync();
        var token = body["token"]!.GetValue<string>();
        var keyId = body["id"]!.GetValue<string>();
        Assert.StartsWith(body["prefix"]!.GetValue<string>() + "_", token, StringComparison.Ordinal);
        var user = host.WithToken(token);
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync(Url("/api/v1/me"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync(Url("/api/v1/keys"))).StatusCode);
        var listed = await (await admin.GetAsync(Url($"/api/v1/keys/{keyId}"))).Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync(Url($"/api/v1/keys/{keyId}"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await user.GetAsync(Url("/api/v1/me"))).StatusCode);

        var secrets = new[] { token, token[(token.LastIndexOf('_') + 1)..], operatorKey.Token, operatorKey.Token[(operatorKey.Token.LastIndexOf('_') + 1)..] };
        Assert.DoesNotContain(secrets[1], listed, StringComparison.Ordinal);

        var events = new List<string>();
        var store = host.Services.GetRequiredService<IEventStore>();
        var slice = await store.ReadAllForwardAsync(GlobalPosition.Start, 10_000);
        events.AddRange(slice.Events.Select(e => e.Data + " " + System.Text.Json.JsonSerializer.Serialize(e.Metadata)));
        Assert.NotEmpty(events);

        var rows = new List<string>();
        await using (var connection = new SqliteConnection($"Data Source={host.SqlitePath}"))
        {
            foreach (var table in await connection.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'table'"))
                foreach (IDictionary<string, object?> row in await connection.QueryAsync($"SELECT * FROM \"{table}\""))
                    rows.Add(string.Join("|", row.Values));
        }

        await host.DisposeAsync();
        var logText = sink.AsJson();
        Assert.Contains("key_", logText, StringComparison.Ordinal); // the log did capture the requests
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, logText, StringComparison.Ordinal);
            Assert.DoesNotContain(events, e => e.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(rows, r => r.Contains(secret, StringComparison.Ordinal));
        }
    }
}
