using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using Triggers.Modular.BuildingBlocks.Tests.Support;

namespace Triggers.Modular.EndToEnd.Tests.Runtime;

/// <summary>
/// The store a host process under test runs on (<see cref="HostProcess"/>): a fresh PostgreSQL database or SQLite file,
/// the environment that points a host at it, read connections to inspect what the host stored (also while it is killed),
/// and the clean-up.
/// </summary>
internal sealed class ProcessStore : IAsyncDisposable
{
    private readonly string _folder;
    private TestPostgres.TestDatabase? _pg;

    private ProcessStore(StoreKind kind, string name)
    {
        Kind = kind;
        _folder = Path.Combine(Path.GetTempPath(), name, Guid.NewGuid().ToString("N"));
    }

    public StoreKind Kind { get; }

    /// <summary>The events table of the store.</summary>
    public string Events => Kind == StoreKind.Postgres ? "event_store.events" : "es_events";

    public static async Task<ProcessStore> CreateAsync(StoreKind kind, string name)
    {
        var store = new ProcessStore(kind, name);
        if (kind == StoreKind.Postgres) store._pg = await TestPostgres.CreateDatabaseAsync();
        else Directory.CreateDirectory(store._folder);
        return store;
    }

    /// <summary>The host's environment: <paramref name="settings"/> and the store's provider and location.</summary>
    public Dictionary<string, string> Environment(Dictionary<string, string> settings)
    {
        var environment = new Dictionary<string, string>(settings, StringComparer.Ordinal);
        if (Kind == StoreKind.Postgres)
        {
            environment["EventStore__Provider"] = "postgres";
            environment["EventStore__Postgres__ConnectionString"] = _pg!.ConnectionString;
        }
        else
        {
            environment["EventStore__Provider"] = "sqlite";
            environment["EventStore__Sqlite__Path"] = Path.Combine(_folder, "store.db");
        }

        return environment;
    }

    /// <summary>A connection for reading (read-only on SQLite, unpooled, so the file is never held open).</summary>
    public async Task<DbConnection> OpenAsync()
    {
        DbConnection connection = Kind == StoreKind.Postgres
            ? new NpgsqlConnection(_pg!.ConnectionString)
            : new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(_folder, "store.db"), Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Events of <paramref name="type"/> in the store.</summary>
    public async Task<long> CountAsync(string type)
    {
        await using var c = await OpenAsync();
        return await c.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {Events} WHERE type = @type", new { type });
    }

    /// <summary>Execution id → how many <c>execution_started</c> its stream holds.</summary>
    public async Task<Dictionary<string, long>> StartedExecutionsAsync()
    {
        await using var c = await OpenAsync();
        var rows = await c.QueryAsync<(string Stream, long Count)>(
            $"SELECT stream_name, COUNT(*) FROM {Events} WHERE type = 'executions.execution_started' GROUP BY stream_name");
        return rows.ToDictionary(r => r.Stream["execution-".Length..], r => r.Count, StringComparer.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        if (_pg is not null) await _pg.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}
