using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.EventStore.Postgres;
using Triggers.Modular.BuildingBlocks.EventStore.Sqlite;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.BuildingBlocks.Tests.Support;

public enum StoreKind
{
    Sqlite,
    Postgres,
}

/// <summary>
/// A real, migrated, empty event store of one kind: a fresh SQLite file in a temp folder, or a fresh PostgreSQL
/// database. <see cref="OpenPeerAsync"/> opens a second, independent store instance on the same data, as a second
/// host process would.
/// </summary>
public sealed class StoreHarness : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly TestPostgres.TestDatabase? _pgDatabase;
    private readonly string? _sqlitePath;

    private StoreHarness(StoreKind kind, EventStoreOptions options, TestPostgres.TestDatabase? pg, string? sqlitePath)
    {
        Kind = kind;
        Options = options;
        _pgDatabase = pg;
        _sqlitePath = sqlitePath;
    }

    public StoreKind Kind { get; }
    public EventStoreOptions Options { get; }
    public IEventStore Store { get; private set; } = null!;
    public IStoreDatabase Database { get; private set; } = null!;
    public IAppendTransactions Transactions => (IAppendTransactions)Store;

    public static async Task<StoreHarness> CreateAsync(StoreKind kind, EventStoreOptions? options = null)
    {
        options ??= new EventStoreOptions();
        StoreHarness harness;
        if (kind == StoreKind.Postgres)
        {
            harness = new StoreHarness(kind, options, await TestPostgres.CreateDatabaseAsync(), null);
        }
        else
        {
            var folder = Path.Combine(Path.GetTempPath(), "tm-tests", Guid.NewGuid().ToString("N"));
            harness = new StoreHarness(kind, options, null, Path.Combine(folder, "events.db"));
        }

        (harness.Store, harness.Database) = await harness.OpenPeerCoreAsync();
        await new MigrationRunner(harness.Database, [EventStoreMigrations.Source, BuildingBlocks.Projections.ProjectionCheckpoints.Migrations], NullLogger<MigrationRunner>.Instance).MigrateAsync();
        return harness;
    }

    /// <summary>Another store instance over the same data (own connections, own wake-up listener).</summary>
    public async Task<IEventStore> OpenPeerAsync() => (await OpenPeerCoreAsync()).Store;

    public IStoreDatabase OpenDatabase() => Kind == StoreKind.Postgres
        ? Own(new PostgresStoreDatabase(PostgresStoreDatabase.CreateDataSource(_pgDatabase!.ConnectionString)))
        : new SqliteStoreDatabase(new SqliteStoreOptions { Path = _sqlitePath! });

    public string? PostgresConnectionString => _pgDatabase?.ConnectionString;

    public string? SqlitePath => _sqlitePath;

    private Task<(IEventStore Store, IStoreDatabase Database)> OpenPeerCoreAsync()
    {
        var database = OpenDatabase();
        IEventStore store = database switch
        {
            PostgresStoreDatabase pg => Own(new PostgresEventStore(pg,
                Own(new PostgresAppendSignal(pg.DataSource, NullLogger.Instance)), Options, TimeProvider.System)),
            SqliteStoreDatabase sqlite => new SqliteEventStore(sqlite, Options, TimeProvider.System),
            _ => throw new InvalidOperationException(),
        };
        return Task.FromResult((store, database));
    }

    private T Own<T>(T disposable) where T : IAsyncDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
            await _owned[i].DisposeAsync();
        if (_pgDatabase is not null) await _pgDatabase.DisposeAsync();
        if (_sqlitePath is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(Path.GetDirectoryName(_sqlitePath)!, recursive: true);
            }
            catch (IOException)
            {
                // A file still open on a slow runner; the temp folder is cleaned by the OS.
            }
        }
    }
}
