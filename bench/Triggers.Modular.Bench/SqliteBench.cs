using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.EventStore.Sqlite;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.Bench;

/// <summary>SQLite phases, on store files in a temp folder (deleted at the end).</summary>
internal sealed class SqliteBench(BenchOptions o, List<PhaseResult> results, Dictionary<string, string> environment)
{
    private const string Backend = "SQLite";

    public async Task RunAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), "tm-bench", Guid.NewGuid().ToString("N"));
        environment["SQLite"] = $"{SqliteVersion()}, WAL, files under {Path.GetTempPath()}";
        try
        {
            // The default configuration: synchronous = NORMAL.
            var (normal, normalDb) = await OpenAsync(Path.Combine(folder, "normal.db"), "NORMAL");
            foreach (var writers in o.WriterCounts)
                Add(await StorePhases.AppendAsync(o, Backend, "event store: 1-event appends", normal, writers, 1, "synchronous=NORMAL"));
            foreach (var writers in o.WriterCounts)
                Add(await StorePhases.AppendAsync(o, Backend, $"event store: {StorePhases.BatchSize}-event appends", normal, writers,
                    StorePhases.BatchSize, "synchronous=NORMAL"));

            // Diagnostic: the same appends with time-ordered (UUIDv7) event ids, a caller's choice.
            Add(await StorePhases.AppendAsync(o, Backend, $"event store: {StorePhases.BatchSize}-event appends, UUIDv7 event ids", normal, 1,
                StorePhases.BatchSize, "diagnostic: synchronous=NORMAL; ids from Guid.CreateVersion7()", timeOrderedIds: true));

            // Ceilings for the same table and settings: plain inserts in a write transaction on one open connection.
            var (_, rawDb) = await OpenAsync(Path.Combine(folder, "raw.db"), "NORMAL");
            Add(await Phase.RunAsync(Backend, "raw INSERT, 1 row per transaction (ceiling)", 1, o.Warmup, o.Duration,
                _ => RawWriterAsync(rawDb, 1), "diagnostic: synchronous=NORMAL, own connection, one prepared command"));
            Add(await Phase.RunAsync(Backend, $"raw INSERT, {StorePhases.BatchSize} rows per transaction (ceiling)", 1, o.Warmup, o.Duration,
                _ => RawWriterAsync(rawDb, StorePhases.BatchSize), "diagnostic: synchronous=NORMAL, own connection, one prepared command"));

            // For reference: synchronous = FULL (an fsync of the WAL per commit), one writer (more only queue).
            var (full, _) = await OpenAsync(Path.Combine(folder, "full.db"), "FULL");
            Add(await StorePhases.AppendAsync(o, Backend, "event store: 1-event appends", full, 1, 1, "synchronous=FULL (reference)"));
            Add(await StorePhases.AppendAsync(o, Backend, $"event store: {StorePhases.BatchSize}-event appends", full, 1,
                StorePhases.BatchSize, "synchronous=FULL (reference)"));

            var existing = await CountAsync(normalDb);
            var fill = await StorePhases.FillAsync(Backend, normal, existing, o.ReadEvents);
            if (fill is not null) results.Add(fill);
            var total = await CountAsync(normalDb);
            results.Add(await StorePhases.ReadAllPagingAsync(o, Backend, normal, total));
            results.Add(await StorePhases.ReadAllSubscriptionAsync(o, Backend, normal, total));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                Console.Error.WriteLine($"[sqlite] could not delete {folder}");
            }
        }
    }

    private void Add(PhaseResult result)
    {
        results.Add(result);
        Console.Error.WriteLine($"[sqlite] {result.Scenario} @{result.Writers} ({result.Note}): {result.EventsPerSecond:N0} events/s {result.Error}");
    }

    internal static async Task<(IEventStore Store, SqliteStoreDatabase Database)> OpenAsync(string path, string synchronous)
    {
        var database = new SqliteStoreDatabase(new SqliteStoreOptions { Path = path, Synchronous = synchronous });
        await new MigrationRunner(database, [EventStoreMigrations.Source], NullLogger<MigrationRunner>.Instance).MigrateAsync();
        return (new SqliteEventStore(database, new EventStoreOptions(), TimeProvider.System), database);
    }

    /// <summary>
    /// A raw writer into <c>es_events</c> of a migrated store file: BEGIN IMMEDIATE, <paramref name="batch"/> INSERTs with
    /// one reused command, COMMIT, on one connection kept open (with the store's pragmas).
    /// </summary>
    internal static async Task<Writer> RawWriterAsync(SqliteStoreDatabase database, int batch)
    {
        var connection = (SqliteConnection)await database.OpenConnectionAsync();
        var insert = connection.CreateCommand();
        insert.CommandText =
            "INSERT INTO es_events (event_id, stream_name, category, revision, type, schema_version, data, tenant_id, " +
            "environment, actor, correlation_id, causation_id, created_at) VALUES ($id, $stream, 'raw', $revision, $type, " +
            "$version, $data, $tenant, $environment, $actor, $correlation, $causation, $created)";
        var names = new[] { "$id", "$stream", "$revision", "$type", "$version", "$data", "$tenant", "$environment", "$actor", "$correlation", "$causation", "$created" };
        var p = names.ToDictionary(n => n, n => insert.Parameters.Add(new SqliteParameter { ParameterName = n }));
        var stream = $"raw-{Guid.NewGuid():N}";
        long revision = 0;
        long sequence = 0;
        return new Writer(async () =>
        {
            await using var tx = await database.BeginWriteTransactionAsync(connection);
            insert.Transaction = (SqliteTransaction)tx;
            for (var i = 0; i < batch; i++)
            {
                var e = Payload.NewEvent(0, sequence++);
                p["$id"].Value = e.EventId.ToString();
                p["$stream"].Value = stream;
                p["$revision"].Value = revision++;
                p["$type"].Value = e.Type;
                p["$version"].Value = e.SchemaVersion;
                p["$data"].Value = e.Data;
                p["$tenant"].Value = (object?)e.Metadata.TenantId ?? DBNull.Value;
                p["$environment"].Value = (object?)e.Metadata.Environment ?? DBNull.Value;
                p["$actor"].Value = (object?)e.Metadata.Actor ?? DBNull.Value;
                p["$correlation"].Value = (object?)e.Metadata.CorrelationId ?? DBNull.Value;
                p["$causation"].Value = (object?)e.Metadata.CausationId ?? DBNull.Value;
                p["$created"].Value = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
                await insert.ExecuteNonQueryAsync();
            }

            await tx.CommitAsync();
            return batch;
        }, async () =>
        {
            await insert.DisposeAsync();
            await connection.DisposeAsync();
        });
    }

    private static async Task<long> CountAsync(SqliteStoreDatabase database)
    {
        await using var connection = await database.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM es_events");
    }

    internal static string SqliteVersion()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        return "SQLite " + connection.ServerVersion;
    }
}
