using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;
using Triggers.Modular.BuildingBlocks.Tests.Support;

namespace Triggers.Modular.EndToEnd.Tests;

public sealed class HealthTests
{
    private static WebApplicationFactory<Program> Host(Dictionary<string, string?> settings) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            foreach (var (key, value) in settings) b.UseSetting(key, value);
        });

    [Fact]
    public async Task Given_the_embedded_default_When_the_host_starts_Then_live_and_ready_answer_200_and_the_sqlite_file_exists()
    {
        var folder = Path.Combine(Path.GetTempPath(), "tm-e2e", Guid.NewGuid().ToString("N"));
        var path = Path.Combine(folder, "store.db");
        await using (var factory = Host(new() { ["EventStore:Sqlite:Path"] = path }))
        {
            using var client = factory.CreateClient();

            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
            var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
            Assert.True(File.Exists(path));
        }

        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task Given_postgres_When_the_host_starts_Then_it_migrates_and_is_ready_and_when_the_database_goes_away_Then_ready_answers_503()
    {
        var db = await TestPostgres.CreateDatabaseAsync();
        await using var factory = Host(new()
        {
            ["EventStore:Provider"] = "postgres",
            ["EventStore:Postgres:ConnectionString"] = db.ConnectionString,
        });
        using var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
        await using (var c = new NpgsqlConnection(db.ConnectionString))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM schema_migrations", c);
            Assert.True((long)(await cmd.ExecuteScalarAsync())! >= 2);
        }

        await db.DisposeAsync(); // drops the database under the running host
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
    }
}
