using Microsoft.Extensions.Logging.Abstractions;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.EventStore.Postgres;
using Triggers.Modular.BuildingBlocks.EventStore.Sqlite;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.BuildingBlocks.Tests.Support;

namespace Triggers.Modular.BuildingBlocks.Tests.EventStore;

/// <summary>The event store's schema migrations: safe to run twice, and from several processes at once.</summary>
public abstract partial class EventStoreContract
{
    private StoreDialect Dialect => Kind == StoreKind.Postgres ? StoreDialect.Postgres : StoreDialect.Sqlite;

    private static MigrationRunner EventStoreRunner(IStoreDatabase database) =>
        new(database, [EventStoreMigrations.Source], NullLogger<MigrationRunner>.Instance);

    [Fact]
    public async Task Given_a_migrated_store_When_migrations_run_again_twice_and_concurrently_Then_nothing_is_applied_and_each_migration_is_recorded_once()
    {
        await using var h = await CreateAsync();
        var expected = EventStoreMigrations.Source.GetMigrations(Dialect).Select(m => (m.Module, (long)m.Version)).ToList();
        Assert.NotEmpty(expected);

        Assert.Equal(0, await EventStoreRunner(h.OpenDatabase()).MigrateAsync());
        Assert.Equal(0, await EventStoreRunner(h.OpenDatabase()).MigrateAsync());
        var databases = Enumerable.Range(0, 5).Select(_ => h.OpenDatabase()).ToList();
        var applied = await Task.WhenAll(databases.Select(d => Task.Run(() => EventStoreRunner(d).MigrateAsync())))
            .WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(applied, a => Assert.Equal(0, a));
        var rows = await MigrationRowsAsync(h.Database);
        Assert.Equal(expected, rows.Where(r => r.Module == "event_store"));
        Assert.Equal(rows.Count, rows.Distinct().Count());
        var appended = await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.NoStream, [TestEvents.New()]);
        Assert.Equal(0, appended.NextExpectedRevision);
    }

    [Fact]
    public async Task Given_an_empty_database_When_several_processes_migrate_it_at_once_Then_each_migration_is_applied_exactly_once_and_a_rerun_applies_nothing()
    {
        await using var db = await UnmigratedDatabase.CreateAsync(Kind);
        var expected = EventStoreMigrations.Source.GetMigrations(Dialect).Select(m => (m.Module, (long)m.Version)).ToList();
        var databases = Enumerable.Range(0, 5).Select(_ => db.Open()).ToList();

        var applied = await Task.WhenAll(databases.Select(d => Task.Run(() => EventStoreRunner(d).MigrateAsync())))
            .WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(expected.Count, applied.Sum());
        Assert.Equal(0, await EventStoreRunner(db.Open()).MigrateAsync());
        Assert.Equal(expected, await MigrationRowsAsync(db.Open()));

        // The schema works: an adapter over it appends and reads.
        var database = db.Open();
        await using var signal = database is PostgresStoreDatabase pgDatabase
            ? new PostgresAppendSignal(pgDatabase.DataSource, NullLogger.Instance)
            : null;
        IEventStore store = database switch
        {
            PostgresStoreDatabase pg => new PostgresEventStore(pg, signal!, new EventStoreOptions(), TimeProvider.System),
            SqliteStoreDatabase sqlite => new SqliteEventStore(sqlite, new EventStoreOptions(), TimeProvider.System),
            _ => throw new InvalidOperationException(),
        };
        var e = TestEvents.New();
        await store.AppendToStreamAsync("order-1", ExpectedRevision.NoStream, [e]);
        Assert.Equal([e.EventId], (await StoreReads.ReadAllSettledAsync(store)).Select(r => r.EventId));
    }

    private static async Task<List<(string Module, long Version)>> MigrationRowsAsync(IStoreDatabase database)
    {
        var rows = new List<(string, long)>();
        await using var connection = await database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT module, version FROM schema_migrations ORDER BY module, version";
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add((reader.GetString(0), reader.GetInt64(1)));
        return rows;
    }
}
