using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.EventStore.Postgres;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.Bench;

/// <summary>
/// PostgreSQL phases, in a throwaway database <c>tm_bench_{guid}</c> (dropped at the end): raw-insert ceilings into a
/// table shaped like <c>event_store.events</c>, then the event store itself through <see cref="PostgresEventStore"/>.
/// </summary>
internal sealed class PostgresBench(BenchOptions o, List<PhaseResult> results, Dictionary<string, string> environment)
{
    private const string Backend = "PostgreSQL";

    // Same columns and constraints as event_store.events, with a plain identity key instead of (tx_id, seq).
    internal const string RawTableSql = """
        CREATE SCHEMA bench_raw;
        CREATE TABLE bench_raw.events (
            id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id       uuid   NOT NULL,
            stream_name    text   NOT NULL,
            category       text   NOT NULL,
            revision       bigint NOT NULL,
            type           text   NOT NULL,
            schema_version int    NOT NULL,
            data           json   NOT NULL,
            tenant_id      text,
            environment    text,
            actor          text,
            correlation_id text,
            causation_id   text,
            created_at     timestamptz NOT NULL,
            CONSTRAINT raw_events_stream_revision_key UNIQUE (stream_name, revision),
            CONSTRAINT raw_events_event_id_key UNIQUE (event_id)
        );
        """;

    private const string RawInsertSql =
        "INSERT INTO bench_raw.events (event_id, stream_name, category, revision, type, schema_version, data, tenant_id, " +
        "environment, actor, correlation_id, causation_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

    private const string RawBatchInsertSql =
        "INSERT INTO bench_raw.events (event_id, stream_name, category, revision, type, schema_version, data, tenant_id, " +
        "environment, actor, correlation_id, causation_id, created_at) " +
        "SELECT u.id, $2, $3, $4 + u.ord, u.type, u.version, u.data::json, u.tenant, u.environment, u.actor, u.correlation, u.causation, $13 " +
        "FROM unnest($1::uuid[], $5::text[], $6::int[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[]) " +
        "WITH ORDINALITY AS u(id, type, version, data, tenant, environment, actor, correlation, causation, ord)";

    public async Task RunAsync()
    {
        var adminConnectionString = o.PostgresAdmin;
        var name = $"tm_bench_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(adminConnectionString))
        {
            await admin.OpenAsync();
            await using (var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin))
                await create.ExecuteNonQueryAsync();
        }

        Console.Error.WriteLine($"[postgres] created database {name}");
        CpuSample.PostgresDatabase = name;
        try
        {
            var connectionString = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name }.ConnectionString;
            await RunInAsync(connectionString);
        }
        finally
        {
            CpuSample.PostgresDatabase = null;
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(adminConnectionString);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
            Console.Error.WriteLine($"[postgres] dropped database {name}");
        }
    }

    private async Task RunInAsync(string connectionString)
    {
        // As the host builds it (EventStoreRegistration): No Reset On Close, see RunWithPoolResetAsync.
        var dataSource = PostgresStoreDatabase.CreateDataSource(connectionString);
        var database = new PostgresStoreDatabase(dataSource);
        var signal = new PostgresAppendSignal(dataSource, NullLogger.Instance);
        try
        {
            var store = new PostgresEventStore(database, signal, new EventStoreOptions(), TimeProvider.System);
            await new MigrationRunner(database, [EventStoreMigrations.Source], NullLogger<MigrationRunner>.Instance).MigrateAsync();
            await using (var cmd = dataSource.CreateCommand(RawTableSql))
                await cmd.ExecuteNonQueryAsync();
            await DescribeServerAsync(dataSource);

            foreach (var writers in o.WriterCounts)
                await AddAsync(dataSource, () => Phase.RunAsync(Backend, "raw INSERT, 1 row, autocommit, own connection", writers, o.Warmup, o.Duration,
                    w => RawWriterAsync(dataSource, w, batch: 1, pooled: false), "one connection kept open per writer"));
            foreach (var writers in o.WriterCounts)
                await AddAsync(dataSource, () => Phase.RunAsync(Backend, "raw INSERT, 1 row, autocommit, pool open/close per insert", writers, o.Warmup, o.Duration,
                    w => RawWriterAsync(dataSource, w, batch: 1, pooled: true), "as the store opens connections (same data source)"));
            foreach (var writers in o.WriterCounts)
                await AddAsync(dataSource, () => Phase.RunAsync(Backend, $"raw INSERT … SELECT unnest, {StorePhases.BatchSize} rows", writers, o.Warmup, o.Duration,
                    w => RawWriterAsync(dataSource, w, batch: StorePhases.BatchSize, pooled: false), "diagnostic: batch ceiling"));

            // First on the fresh database, as a new deployment starts: each pooled connection caches the plans of
            // event_store.append_events on its first call, while the table is still empty.
            const string fresh = "diagnostic: fresh database, function plans cached while event_store.events was empty";
            foreach (var writers in o.WriterCounts)
                await AddAsync(dataSource, () => StorePhases.AppendAsync(o, Backend, "event store: 1-event appends, fresh database", store, writers, 1, fresh));
            foreach (var writers in o.WriterCounts)
                await AddAsync(dataSource, () => StorePhases.AppendAsync(o, Backend, $"event store: {StorePhases.BatchSize}-event appends, fresh database",
                    store, writers, StorePhases.BatchSize, fresh));

            // Steady state: VACUUM (ANALYZE) — what autovacuum does within a minute or so — invalidates the cached plans;
            // the next call re-plans against the real table. Vacuuming here also keeps the autovacuum of the rows just
            // written out of the next phases. These are the rows the targets are judged on.
            await using (var analyze = dataSource.CreateCommand("VACUUM (ANALYZE) event_store.events, event_store.streams"))
                await analyze.ExecuteNonQueryAsync();
            const string steady = "steady state: after VACUUM (ANALYZE)";
            foreach (var writers in o.WriterCounts)
                await AddAsync(dataSource, () => StorePhases.AppendAsync(o, Backend, "event store: 1-event appends", store, writers, 1, steady));
            foreach (var writers in o.WriterCounts)
                await AddAsync(dataSource, () => StorePhases.AppendAsync(o, Backend, $"event store: {StorePhases.BatchSize}-event appends", store, writers,
                    StorePhases.BatchSize, steady));

            // Diagnostic: the same store whose append signal cannot reach the server (its NOTIFY sender and LISTEN loop just
            // retry once a second), to show what the NOTIFY per append costs.
            await RunWithoutNotifyAsync(dataSource);

            // Diagnostic: the same store over a data source with Npgsql's default pool reset. Npgsql then resets a pooled
            // connection (DISCARD ALL) when it is next used; DISCARD ALL includes DISCARD PLANS, which throws away the
            // cached plans of event_store.append_events, so each append re-plans every statement of the function.
            await RunWithPoolResetAsync(connectionString, dataSource);

            var existing = await CountAsync(dataSource);
            var fill = await StorePhases.FillAsync(Backend, store, existing, o.ReadEvents);
            if (fill is not null) results.Add(fill);
            var total = await CountAsync(dataSource);

            // Settle the table before reading: set hint bits and statistics once, as autovacuum would have by then.
            await using (var vacuum = dataSource.CreateCommand("VACUUM (ANALYZE) event_store.events"))
                await vacuum.ExecuteNonQueryAsync();
            results.Add(await StorePhases.ReadAllPagingAsync(o, Backend, store, total));
            results.Add(await StorePhases.ReadAllSubscriptionAsync(o, Backend, store, total));
        }
        finally
        {
            await signal.DisposeAsync();
            await database.DisposeAsync();
        }
    }

    private async Task RunWithoutNotifyAsync(NpgsqlDataSource dataSource)
    {
        var unreachable = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=none;Timeout=1");
        var signal = new PostgresAppendSignal(unreachable, NullLogger.Instance);
        try
        {
            var store = new PostgresEventStore(new PostgresStoreDatabase(dataSource), signal, new EventStoreOptions(), TimeProvider.System);
            const string note = "diagnostic: steady state, PostgresAppendSignal pointed at a closed port, so no NOTIFY is sent";
            foreach (var writers in o.WriterCounts)
                await AddAsync(dataSource, () => StorePhases.AppendAsync(o, Backend, "event store: 1-event appends, no NOTIFY", store, writers, 1, note));
        }
        finally
        {
            await signal.DisposeAsync();
            await unreachable.DisposeAsync();
        }
    }

    private async Task RunWithPoolResetAsync(string connectionString, NpgsqlDataSource probe)
    {
        var withReset = NpgsqlDataSource.Create(connectionString);
        var database = new PostgresStoreDatabase(withReset);
        var signal = new PostgresAppendSignal(withReset, NullLogger.Instance);
        try
        {
            var store = new PostgresEventStore(database, signal, new EventStoreOptions(), TimeProvider.System);
            const string note = "diagnostic: same store on NpgsqlDataSource.Create(connection string), i.e. with Npgsql's pool reset";
            foreach (var writers in o.WriterCounts)
                await AddAsync(probe, () => StorePhases.AppendAsync(o, Backend, "event store: 1-event appends, with pool reset", store, writers, 1, note));
            foreach (var writers in o.WriterCounts)
                await AddAsync(probe, () => StorePhases.AppendAsync(o, Backend, $"event store: {StorePhases.BatchSize}-event appends, with pool reset", store,
                    writers, StorePhases.BatchSize, note));
        }
        finally
        {
            await signal.DisposeAsync();
            await database.DisposeAsync();
        }
    }

    /// <summary>Runs a write phase and notes the WAL it generated per event (all operations, warm-up included).</summary>
    private async Task AddAsync(NpgsqlDataSource dataSource, Func<Task<PhaseResult>> phase)
    {
        // WAL written, and transaction ids used: each append or insert takes one, and so does each NOTIFY that
        // PostgresAppendSignal sends (a NOTIFY is a transaction with an xid of its own). Counted without a listener of
        // our own, which would add work to every NOTIFY. Transactions of other clients of the server would count too
        // (the table flags phases with other load on the machine).
        var (lsnBefore, xidBefore) = await ServerCountersAsync(dataSource);
        var result = await phase();
        var (lsnAfter, xidAfter) = await ServerCountersAsync(dataSource);
        if (result.Error is null && result.TotalEvents > 0)
        {
            var walPerEvent = (double)(ulong)(lsnAfter - lsnBefore) / result.TotalEvents;
            var extra = string.Create(CultureInfo.InvariantCulture, $"WAL {walPerEvent:N0} B/event");
            var otherXids = (double)(xidAfter - xidBefore - result.TotalOps) / result.TotalOps;
            if (otherXids >= 0.01)
                extra += string.Create(CultureInfo.InvariantCulture, $"; other transactions (NOTIFYs): {otherXids:0.00} per op");
            result = result with { Note = string.IsNullOrEmpty(result.Note) ? extra : $"{result.Note}; {extra}" };
        }

        results.Add(result);
        await CheckpointAsync(dataSource);
        Console.Error.WriteLine($"[postgres] {result.Scenario} @{result.Writers}: {result.EventsPerSecond:N0} events/s {result.Error}");
    }

    /// <summary>The WAL insert position and the next transaction id (read without taking one).</summary>
    internal static async Task<(NpgsqlLogSequenceNumber Lsn, long NextXid)> ServerCountersAsync(NpgsqlDataSource dataSource)
    {
        await using var cmd = dataSource.CreateCommand(
            "SELECT pg_current_wal_insert_lsn(), pg_snapshot_xmax(pg_current_snapshot())::text::bigint");
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetFieldValue<NpgsqlLogSequenceNumber>(0), reader.GetInt64(1));
    }

    /// <summary>Best effort: a checkpoint between phases so one phase does not pay for the previous one's dirty pages.</summary>
    internal static async Task CheckpointAsync(NpgsqlDataSource dataSource)
    {
        try
        {
            await using var cmd = dataSource.CreateCommand("CHECKPOINT");
            await cmd.ExecuteNonQueryAsync();
        }
        catch (PostgresException)
        {
            // Needs superuser or pg_checkpoint (PostgreSQL 15); without it the phases just run back to back.
        }
    }

    private static async Task<long> CountAsync(NpgsqlDataSource dataSource)
    {
        await using var cmd = dataSource.CreateCommand("SELECT count(*) FROM event_store.events");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// A raw writer: one INSERT statement per operation in autocommit, unprepared (like the adapter's command), to
    /// its own stream with an incrementing revision so both unique indexes are exercised as in the store.
    /// </summary>
    internal static async Task<Writer> RawWriterAsync(NpgsqlDataSource dataSource, int writer, int batch, bool pooled)
    {
        var own = pooled ? null : await dataSource.OpenConnectionAsync();
        var stream = $"raw-{Guid.NewGuid():N}.w{writer}";
        long revision = 0;
        long sequence = 0;
        return new Writer(async () =>
        {
            var connection = own ?? await dataSource.OpenConnectionAsync();
            try
            {
                await using var cmd = batch == 1
                    ? RawInsert(connection, stream, revision, Payload.NewEvent(writer, sequence++))
                    : RawBatchInsert(connection, stream, revision, Payload.NewBatch(writer, ref sequence, batch));
                await cmd.ExecuteNonQueryAsync();
                revision += batch;
                return batch;
            }
            finally
            {
                if (own is null) await connection.DisposeAsync();
            }
        }, async () =>
        {
            if (own is not null) await own.DisposeAsync();
        });
    }

    private static NpgsqlCommand RawInsert(NpgsqlConnection connection, string stream, long revision, EventData e)
    {
        var cmd = new NpgsqlCommand(RawInsertSql, connection);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = e.EventId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "raw" });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = revision });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Type });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = e.SchemaVersion });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Data, NpgsqlDbType = NpgsqlDbType.Json });
        foreach (var text in new[] { e.Metadata.TenantId, e.Metadata.Environment, e.Metadata.Actor, e.Metadata.CorrelationId, e.Metadata.CausationId })
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)text ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = DateTime.UtcNow });
        return cmd;
    }

    private static NpgsqlCommand RawBatchInsert(NpgsqlConnection connection, string stream, long revision, EventData[] events)
    {
        var cmd = new NpgsqlCommand(RawBatchInsertSql, connection);
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = events.Select(e => e.EventId).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "raw" });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = revision - 1 });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = events.Select(e => e.Type).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = events.Select(e => e.SchemaVersion).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = events.Select(e => e.Data).ToArray() });
        foreach (var column in new Func<EventMetadata, string?>[] { m => m.TenantId, m => m.Environment, m => m.Actor, m => m.CorrelationId, m => m.CausationId })
            cmd.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => column(e.Metadata)).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = DateTime.UtcNow });
        return cmd;
    }

    private async Task DescribeServerAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using (var version = new NpgsqlCommand("SHOW server_version", connection))
            environment["PostgreSQL"] = (string)(await version.ExecuteScalarAsync())!;
        var settings = new List<string>();
        foreach (var setting in new[] { "fsync", "synchronous_commit", "wal_sync_method", "full_page_writes", "commit_delay", "shared_buffers", "max_wal_size", "max_connections" })
        {
            await using var cmd = new NpgsqlCommand($"SHOW {setting}", connection);
            settings.Add($"{setting}={await cmd.ExecuteScalarAsync()}");
        }

        environment["PostgreSQL settings"] = string.Join(", ", settings);
        var settingsInUse = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        environment["Npgsql data source (store and raw phases)"] =
            $"PostgresStoreDatabase.CreateDataSource: Max Pool Size={settingsInUse.MaxPoolSize}, No Reset On Close={settingsInUse.NoResetOnClose}";
    }
}
