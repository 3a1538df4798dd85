using System.Data.Common;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.BuildingBlocks.Projections;

public sealed record RebuildOptions
{
    /// <summary>Events read and applied per transaction while replaying.</summary>
    public int BatchSize { get; init; } = 2000;

    /// <summary>Pause between replayed pages, to bound the load a rebuild puts on a busy database (default none). The replay
    /// must still outpace the appends it chases: it ends only once it reaches the head.</summary>
    public TimeSpan PageDelay { get; init; } = TimeSpan.Zero;

    /// <summary>First wait before trying the final step again (the live tables' lock not granted in time, or — compare mode —
    /// the live projection still behind the rebuilt one); doubled at each attempt, up to 2 s.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>PostgreSQL: how long the final step waits for the live tables' lock before giving way and trying again. Kept
    /// short: readers of the tables queue behind a waiting lock, and a transaction waiting for an exclusive lock holds
    /// back every <c>$all</c> reader of the cluster (ADR 0003).</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>A rebuild's claim (one per projection, across processes) lapses when not renewed for this long (a crashed
    /// rebuilder); it is renewed every few seconds while replaying.</summary>
    public TimeSpan ClaimTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Attempts of the final step before the rebuild fails.</summary>
    public int FinishAttempts { get; init; } = 240;

    /// <summary>Tests: runs between the replay and the final step (to append events the final step must catch up).</summary>
    internal Func<CancellationToken, Task>? BeforeFinish { get; init; }
}

/// <summary>
/// Rebuilds a projection beside its live tables (docs/adr/0016): creates shadow tables shaped like the live ones, replays
/// <c>$all</c> from position 0 into them page by page while the live tables keep serving reads and the live runner keeps
/// applying, then, in one write transaction holding the live tables' lock: applies the shadow's events up to the live
/// checkpoint, and either swaps the tables (the shadow takes the live names, its indexes the live indexes' names, the
/// checkpoint the shadow's position) or compares them row for row. Readers see the old tables until the commit and the new
/// ones after; the lock lasts the last few events.
/// </summary>
public static partial class ProjectionRebuilder
{
    public const string ShadowSuffix = "__rebuild";

    /// <summary>Whether <paramref name="projection"/> can be rebuilt beside its tables (a read model naming its tables).</summary>
    public static bool CanRebuild(IProjection projection, StoreDialect dialect) =>
        projection is not EventProcessorProjection && projection.Tables(dialect).Count > 0;

    public static async Task RunAsync(ProjectionRebuild job, IEventStore store, IStoreDatabase database, RebuildOptions options,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            var comparison = await RebuildAsync(job, store, database, options, cancellationToken).ConfigureAwait(false);
            job.Finish(RebuildState.Completed, comparison: comparison);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            job.Finish(RebuildState.Cancelled, "cancelled (host stopping)");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            job.Finish(RebuildState.Failed, ex.Message);
        }
    }

    private static async Task<IReadOnlyList<TableComparison>?> RebuildAsync(ProjectionRebuild job, IEventStore store, IStoreDatabase database,
        RebuildOptions options, CancellationToken cancellationToken)
    {
        var projection = job.Projection;
        var dialect = database.Dialect;
        if (!CanRebuild(projection, dialect))
            throw new InvalidOperationException($"'{projection.Name}' names no tables of its own: it can only be reset in place.");
        var tables = projection.Tables(dialect).Select(t => new ShadowTable(CheckedTable(t), t + ShadowSuffix)).ToList();
        var names = tables.ToDictionary(t => t.Live, t => t.Shadow, StringComparer.Ordinal);

        var owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
        if (!await RebuildClaims.TryClaimAsync(database, projection.Name, owner, options.ClaimTimeout, cancellationToken).ConfigureAwait(false))
            throw new RebuildRefusedException($"'{projection.Name}' is being rebuilt by another process or instance.", notRebuildable: false);
        try
        {
            await using (var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
            {
                await ProjectionCheckpoints.LoadAsync(connection, projection.Name, cancellationToken).ConfigureAwait(false);
                await using var tx = await database.BeginWriteTransactionAsync(connection, cancellationToken).ConfigureAwait(false);
                foreach (var table in tables)
                    await CreateShadowAsync(connection, tx, dialect, table, cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            var head = await store.ReadHeadPositionAsync(cancellationToken).ConfigureAwait(false);
            var counted = await store.CountAllAfterAsync(GlobalPosition.Start, projection.Filter, cancellationToken).ConfigureAwait(false);
            job.SetTotal(counted);

            // Replay: one transaction per page, the live tables untouched; the next page is read while this one is applied.
            var position = GlobalPosition.Start;
            var recounted = Stopwatch.GetTimestamp();
            var renewed = recounted;
            var reading = store.ReadAllForwardAsync(position, options.BatchSize, projection.Filter, cancellationToken);
            try
            {
                while (true)
                {
                    var slice = await reading.ConfigureAwait(false);
                    var next = slice.ScannedUpTo > position ? slice.ScannedUpTo : position;
                    if (!slice.IsEnd) reading = store.ReadAllForwardAsync(next, options.BatchSize, projection.Filter, cancellationToken);
                    if (slice.Events.Count > 0)
                    {
                        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                        await using var tx = await database.BeginWriteTransactionAsync(connection, cancellationToken).ConfigureAwait(false);
                        await projection.ApplyBatchAsync(slice.Events, new ProjectionContext(connection, tx, dialect, names), cancellationToken).ConfigureAwait(false);
                        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                    }

                    position = next;
                    job.Advance(slice.Events.Count, position);
                    if (slice.IsEnd) break;
                    if (options.PageDelay > TimeSpan.Zero) await Task.Delay(options.PageDelay, cancellationToken).ConfigureAwait(false);
                    if (Stopwatch.GetElapsedTime(renewed) >= options.ClaimTimeout / 10)
                    {
                        await RebuildClaims.RenewAsync(database, projection.Name, owner, options.ClaimTimeout, cancellationToken).ConfigureAwait(false);
                        renewed = Stopwatch.GetTimestamp();
                    }

                    if (Stopwatch.GetElapsedTime(recounted) >= TimeSpan.FromSeconds(1))
                    {
                        // Events appended since the start raise the total (counted from the head read then: a short range).
                        job.SetTotal(counted + await store.CountAllAfterAsync(head, projection.Filter, cancellationToken).ConfigureAwait(false));
                        recounted = Stopwatch.GetTimestamp();
                    }
                }
            }
            catch
            {
                // Observe a read in flight when applying failed.
                try { await reading.ConfigureAwait(false); } catch (Exception ex) when (ex is not OutOfMemoryException) { }
                throw;
            }

            if (options.BeforeFinish is { } hook) await hook(cancellationToken).ConfigureAwait(false);
            job.Set(RebuildState.Finishing);
            for (var attempt = 1; ; attempt++)
            {
                await RebuildClaims.RenewAsync(database, projection.Name, owner, options.ClaimTimeout, cancellationToken).ConfigureAwait(false);
                var outcome = job.Mode == RebuildMode.Switch
                    ? await TrySwitchAsync(job, store, database, options, tables, names, owner, position, cancellationToken).ConfigureAwait(false)
                    : await TryCompareAsync(job, store, database, options, tables, names, owner, position, cancellationToken).ConfigureAwait(false);
                if (outcome.Done) return outcome.Comparison;
                position = outcome.Position;
                if (attempt >= options.FinishAttempts)
                    throw new InvalidOperationException($"'{projection.Name}': the final step did not succeed after {attempt} attempts ({outcome.Reason}).");
                var backoff = options.RetryDelay * Math.Pow(2, Math.Min(attempt - 1, 10));
                await Task.Delay(backoff < TimeSpan.FromSeconds(2) ? backoff : TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await DropShadowsAsync(database, tables, projection.Name, owner).ConfigureAwait(false);
            await RebuildClaims.ReleaseAsync(database, projection.Name, owner).ConfigureAwait(false);
        }
    }

    private sealed record Outcome(bool Done, GlobalPosition Position, IReadOnlyList<TableComparison>? Comparison = null, string? Reason = null);

    /// <summary>Switch, in one write transaction: lock the live tables (PostgreSQL ACCESS EXCLUSIVE, with a short timeout),
    /// then the checkpoint row — the order a page transaction of the live runner takes them in (rows first, checkpoint last),
    /// so a page in flight finishes first and the next one waits; bring the shadow to the live checkpoint; swap; set the
    /// checkpoint to the shadow's position.</summary>
    private static async Task<Outcome> TrySwitchAsync(ProjectionRebuild job, IEventStore store, IStoreDatabase database, RebuildOptions options,
        IReadOnlyList<ShadowTable> tables, IReadOnlyDictionary<string, string> names, string owner, GlobalPosition position,
        CancellationToken cancellationToken)
    {
        var projection = job.Projection;
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await database.BeginWriteTransactionAsync(connection, cancellationToken).ConfigureAwait(false);
        try
        {
            await LockAsync(connection, tx, database.Dialect, tables, "ACCESS EXCLUSIVE", options, cancellationToken).ConfigureAwait(false);
            await CheckBeforeFinishingAsync(connection, tx, database.Dialect, projection.Name, owner, tables, cancellationToken).ConfigureAwait(false);
            var live = await ProjectionCheckpoints.ReadForUpdateAsync(connection, tx, database.Dialect, projection.Name, cancellationToken).ConfigureAwait(false);
            var caughtUp = await CatchUpAsync(projection, store, new ProjectionContext(connection, tx, database.Dialect, names), position, live, cancellationToken)
                .ConfigureAwait(false);
            if (caughtUp is not var (reached, applied)) return new Outcome(false, position, Reason: "events up to the live checkpoint are not visible yet");
            foreach (var table in tables)
                await SwapAsync(connection, tx, database.Dialect, table, cancellationToken).ConfigureAwait(false);
            // A shadow ahead of a lagging live runner moves its checkpoint: the runner's next compare-and-set fails, it reloads
            // and goes on from here, into the renamed tables.
            await ProjectionCheckpoints.SetAsync(connection, tx, projection.Name, reached, cancellationToken).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            job.Advance(applied, reached);
            return new Outcome(true, reached);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.LockNotAvailable or PostgresErrorCodes.DeadlockDetected)
        {
            // A reader or a page held a live table past the timeout, or a page of a projection with several tables locked
            // them in another order: give way, try again.
            return new Outcome(false, position, Reason: ex.MessageText);
        }
    }

    /// <summary>Compare, without holding readers or <c>$all</c>: (1) in a write transaction — PostgreSQL EXCLUSIVE lock, which
    /// stops the live runner's writes to the tables but not their readers — bring the shadow to the live checkpoint and commit;
    /// (2) in a read-only snapshot, check that the live checkpoint is still that one (the runner writes its rows and checkpoint
    /// together, so a snapshot sees them agree) and compare the tables row for row. A runner behind the shadow, or one that
    /// moved in between, means trying again.</summary>
    private static async Task<Outcome> TryCompareAsync(ProjectionRebuild job, IEventStore store, IStoreDatabase database, RebuildOptions options,
        IReadOnlyList<ShadowTable> tables, IReadOnlyDictionary<string, string> names, string owner, GlobalPosition position,
        CancellationToken cancellationToken)
    {
        var projection = job.Projection;
        var dialect = database.Dialect;
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (await ProjectionCheckpoints.ReadAsync(connection, projection.Name, cancellationToken).ConfigureAwait(false) is var behind && position > behind)
            return new Outcome(false, position, Reason: $"the live projection is at {behind}, behind the rebuilt one at {position}");

        GlobalPosition live;
        await using (var tx = await database.BeginWriteTransactionAsync(connection, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await LockAsync(connection, tx, dialect, tables, "EXCLUSIVE", options, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.LockNotAvailable or PostgresErrorCodes.DeadlockDetected)
            {
                return new Outcome(false, position, Reason: ex.MessageText);
            }

            await CheckBeforeFinishingAsync(connection, tx, dialect, projection.Name, owner, tables, cancellationToken).ConfigureAwait(false);
            live = await ProjectionCheckpoints.ReadInAsync(connection, tx, projection.Name, cancellationToken).ConfigureAwait(false);
            if (position > live) return new Outcome(false, position, Reason: $"the live projection is at {live}, behind the rebuilt one at {position}");
            var caughtUp = await CatchUpAsync(projection, store, new ProjectionContext(connection, tx, dialect, names), position, live, cancellationToken)
                .ConfigureAwait(false);
            if (caughtUp is not var (reached, applied)) return new Outcome(false, position, Reason: "events up to the live checkpoint are not visible yet");
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            job.Advance(applied, reached);
            position = reached;
        }

        await using var snapshot = await BeginSnapshotAsync(connection, dialect, cancellationToken).ConfigureAwait(false);
        var now = await ProjectionCheckpoints.ReadInAsync(connection, snapshot, projection.Name, cancellationToken).ConfigureAwait(false);
        if (now != live) return new Outcome(false, position, Reason: $"the live projection moved on (to {now}) before the comparison");
        var comparison = new List<TableComparison>();
        foreach (var table in tables)
            comparison.Add(await CompareAsync(connection, snapshot, dialect, table, cancellationToken).ConfigureAwait(false));
        return new Outcome(true, position, comparison);
    }

    /// <summary>Applies the shadow's events after <paramref name="from"/> up to exactly <paramref name="live"/> (everything up to
    /// it was visible to the live runner, so it is to this read); null when they are not visible yet.</summary>
    private static async Task<(GlobalPosition Reached, int Applied)?> CatchUpAsync(IProjection projection, IEventStore store, ProjectionContext context,
        GlobalPosition from, GlobalPosition live, CancellationToken cancellationToken)
    {
        var (reached, applied) = (from, 0);
        while (reached < live)
        {
            var slice = await store.ReadAllForwardAsync(reached, 1000, projection.Filter, cancellationToken).ConfigureAwait(false);
            var events = slice.Events.Where(e => e.Position <= live).ToList();
            if (events.Count > 0) await projection.ApplyBatchAsync(events, context, cancellationToken).ConfigureAwait(false);
            var next = slice.ScannedUpTo > live ? live : slice.ScannedUpTo;
            if (next <= reached) return null;
            (reached, applied) = (next, applied + events.Count);
        }

        return (reached, applied);
    }

    private static async Task LockAsync(DbConnection connection, DbTransaction tx, StoreDialect dialect, IReadOnlyList<ShadowTable> tables, string mode,
        RebuildOptions options, CancellationToken cancellationToken)
    {
        if (dialect != StoreDialect.Postgres) return; // SQLite: the write transaction holds the single writer lock
        await Exec(connection, tx, $"SET LOCAL lock_timeout = {Math.Max(1, (long)options.LockTimeout.TotalMilliseconds)}", cancellationToken).ConfigureAwait(false);
        await Exec(connection, tx, $"LOCK TABLE {string.Join(", ", tables.Select(t => t.Live))} IN {mode} MODE", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Under the final step's lock: the claim is still this rebuild's, and no live table changed shape since its
    /// shadow was made (a migration of a newer version during the replay): switching would bring the old shape back.</summary>
    private static async Task CheckBeforeFinishingAsync(DbConnection connection, DbTransaction tx, StoreDialect dialect, string projection, string owner,
        IReadOnlyList<ShadowTable> tables, CancellationToken cancellationToken)
    {
        if (!await RebuildClaims.HoldsAsync(connection, tx, projection, owner, cancellationToken, forUpdate: dialect == StoreDialect.Postgres).ConfigureAwait(false))
            throw new InvalidOperationException($"'{projection}': this rebuild's claim lapsed (not renewed within the claim timeout); start it again.");
        foreach (var table in tables)
        {
            var (live, shadow) = (await ShapeAsync(connection, tx, dialect, table.Live, cancellationToken).ConfigureAwait(false),
                await ShapeAsync(connection, tx, dialect, table.Shadow, cancellationToken).ConfigureAwait(false));
            if (live != shadow)
                throw new InvalidOperationException($"'{table.Live}' changed shape during the rebuild (a migration ran?): start the rebuild again.");
        }
    }

    /// <summary>Columns in order: name, type, not null, default (and primary key on SQLite).</summary>
    private static async Task<string> ShapeAsync(DbConnection connection, DbTransaction tx, StoreDialect dialect, string table, CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<string>(new CommandDefinition(dialect == StoreDialect.Postgres
            ? "SELECT string_agg(a.attname || ':' || format_type(a.atttypid, a.atttypmod) || ':' || a.attnotnull || ':' || " +
              "coalesce(pg_get_expr(d.adbin, d.adrelid), ''), ',' ORDER BY a.attnum) FROM pg_attribute a " +
              "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = @table::regclass AND a.attnum > 0 AND NOT a.attisdropped"
            : "SELECT group_concat(name || ':' || type || ':' || \"notnull\" || ':' || coalesce(dflt_value, '') || ':' || pk, ',') FROM pragma_table_info(@table)",
            new { table }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false) ?? "";

    /// <summary>A read-only transaction whose reads all see one snapshot (PostgreSQL REPEATABLE READ; SQLite a deferred
    /// transaction, whose WAL snapshot is taken at its first read).</summary>
    private static async Task<DbTransaction> BeginSnapshotAsync(DbConnection connection, StoreDialect dialect, CancellationToken cancellationToken)
    {
        if (dialect == StoreDialect.Postgres)
        {
            var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            await Exec(connection, tx, "SET TRANSACTION READ ONLY", cancellationToken).ConfigureAwait(false);
            return tx;
        }

        return ((Microsoft.Data.Sqlite.SqliteConnection)connection).BeginTransaction(deferred: true);
    }

    private sealed record ShadowTable(string Live, string Shadow)
    {
        /// <summary>The table's name without its schema (PostgreSQL renames take the bare name).</summary>
        public string Bare(string name) => name[(name.LastIndexOf('.') + 1)..];

        /// <summary>"schema." for a qualified table, else empty (the search path finds it).</summary>
        public string Schema => Live.Contains('.', StringComparison.Ordinal) ? Live[..(Live.IndexOf('.', StringComparison.Ordinal) + 1)] : "";
    }

    private static async Task CreateShadowAsync(DbConnection connection, DbTransaction tx, StoreDialect dialect, ShadowTable table,
        CancellationToken cancellationToken)
    {
        await Exec(connection, tx, $"DROP TABLE IF EXISTS {table.Shadow}", cancellationToken).ConfigureAwait(false);
        if (dialect == StoreDialect.Postgres)
        {
            await Exec(connection, tx, $"CREATE TABLE {table.Shadow} (LIKE {table.Live} INCLUDING ALL)", cancellationToken).ConfigureAwait(false);
            return;
        }

        // SQLite: the live table's own DDL under the shadow's name. Unique indexes are made now (an upsert may target one), under
        // suffixed names; at the swap every index of the live table is made again under its own name (SQLite cannot rename
        // an index). The primary key's index comes with the table.
        var sql = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = @name", new { name = table.Live }, tx, cancellationToken: cancellationToken))
            .ConfigureAwait(false) ?? throw new InvalidOperationException($"No table '{table.Live}'.");
        var renamed = CreateTableName().Replace(sql, m => m.Groups["name"].Value.Trim('"', '`', '[', ']') == table.Live
            ? m.Groups["head"].Value + table.Shadow : m.Value, 1);
        if (ReferenceEquals(renamed, sql) || renamed == sql) throw new InvalidOperationException($"Cannot read the DDL of '{table.Live}'.");
        await Exec(connection, tx, renamed, cancellationToken).ConfigureAwait(false);
        var unique = await connection.QueryAsync<(string Name, string Sql)>(new CommandDefinition(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = @name AND sql LIKE 'CREATE UNIQUE INDEX %'",
            new { name = table.Live }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
        foreach (var (name, indexSql) in unique)
        {
            var match = CreateIndexHead().Match(indexSql);
            if (!match.Success) throw new InvalidOperationException($"Cannot read the DDL of index '{name}'.");
            await Exec(connection, tx, $"CREATE UNIQUE INDEX {Checked(name)}{ShadowSuffix} ON {table.Shadow} {indexSql[match.Length..]}", cancellationToken)
                .ConfigureAwait(false);
        }
    }

    private static async Task SwapAsync(DbConnection connection, DbTransaction tx, StoreDialect dialect, ShadowTable table, CancellationToken cancellationToken)
    {
        if (dialect == StoreDialect.Postgres)
        {
            // Each shadow index (LIKE named them itself) takes the name of the live index with the same definition.
            var pairs = (await connection.QueryAsync<(string Shadow, string Live)>(new CommandDefinition("""
                WITH defs AS (
                    SELECT i.indrelid AS rel, c.relname AS name,
                           regexp_replace(pg_get_indexdef(i.indexrelid), '^CREATE (UNIQUE )?INDEX \S+ ON \S+ ', 'CREATE \1INDEX ON ') AS def
                    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                    WHERE i.indrelid IN (@live::regclass, @shadow::regclass))
                SELECT s.name, l.name FROM defs s JOIN defs l ON l.def = s.def
                WHERE s.rel = @shadow::regclass AND l.rel = @live::regclass
                """, new { live = table.Live, shadow = table.Shadow }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
            var liveIndexes = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT count(*) FROM pg_index WHERE indrelid = @live::regclass", new { live = table.Live }, tx, cancellationToken: cancellationToken))
                .ConfigureAwait(false);
            if (pairs.Count != liveIndexes || pairs.Select(p => p.Shadow).Distinct().Count() != pairs.Count)
                throw new InvalidOperationException($"The indexes of '{table.Shadow}' do not match those of '{table.Live}' one to one.");
            await Exec(connection, tx, $"DROP TABLE {table.Live}", cancellationToken).ConfigureAwait(false);
            await Exec(connection, tx, $"ALTER TABLE {table.Shadow} RENAME TO {table.Bare(table.Live)}", cancellationToken).ConfigureAwait(false);
            foreach (var (shadow, live) in pairs)
                await Exec(connection, tx, $"ALTER INDEX {table.Schema}{Checked(shadow)} RENAME TO {Checked(live)}", cancellationToken).ConfigureAwait(false);
            return;
        }

        var indexes = (await connection.QueryAsync<(string Name, string Sql)>(new CommandDefinition(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = @name AND sql IS NOT NULL", new { name = table.Live }, tx,
            cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        await Exec(connection, tx, $"DROP TABLE {table.Live}", cancellationToken).ConfigureAwait(false);
        await Exec(connection, tx, $"ALTER TABLE {table.Shadow} RENAME TO {table.Live}", cancellationToken).ConfigureAwait(false);
        foreach (var (name, sql) in indexes)
        {
            await Exec(connection, tx, $"DROP INDEX IF EXISTS {Checked(name)}{ShadowSuffix}", cancellationToken).ConfigureAwait(false);
            await Exec(connection, tx, sql, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<TableComparison> CompareAsync(DbConnection connection, DbTransaction tx, StoreDialect dialect, ShadowTable table,
        CancellationToken cancellationToken)
    {
        // PostgreSQL compares whole rows as text (json columns have no equality); both tables have the same columns in the same
        // order (the shadow was made from the live one). SQLite's EXCEPT is a set operation: rows are distinct (primary keys).
        var (l, s) = (table.Live, table.Shadow);
        var sql = dialect == StoreDialect.Postgres
            ? $"SELECT (SELECT count(*) FROM {l}), (SELECT count(*) FROM {s}), " +
              $"(SELECT count(*) FROM (SELECT ROW(x.*)::text FROM {l} x EXCEPT ALL SELECT ROW(y.*)::text FROM {s} y) a), " +
              $"(SELECT count(*) FROM (SELECT ROW(y.*)::text FROM {s} y EXCEPT ALL SELECT ROW(x.*)::text FROM {l} x) b)"
            : $"SELECT (SELECT count(*) FROM {l}), (SELECT count(*) FROM {s}), " +
              $"(SELECT count(*) FROM (SELECT * FROM {l} EXCEPT SELECT * FROM {s})), (SELECT count(*) FROM (SELECT * FROM {s} EXCEPT SELECT * FROM {l}))";
        var (liveRows, rebuiltRows, onlyLive, onlyRebuilt) = await connection.QuerySingleAsync<(long, long, long, long)>(
            new CommandDefinition(sql, transaction: tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new TableComparison(l, liveRows, rebuiltRows, onlyLive, onlyRebuilt);
    }

    /// <summary>Best effort: after a swap the shadows are gone; after a compare or a failure they are dropped here, else by the
    /// next rebuild — but only while the claim is still this rebuild's: a claim that lapsed may have been taken by another
    /// rebuild, whose shadows these names now are (its claim row, locked here, waits for this to finish).</summary>
    private static async Task DropShadowsAsync(IStoreDatabase database, IReadOnlyList<ShadowTable> tables, string projection, string owner)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await using var connection = await database.OpenConnectionAsync(timeout.Token).ConfigureAwait(false);
            await using var tx = await database.BeginWriteTransactionAsync(connection, timeout.Token).ConfigureAwait(false);
            if (!await RebuildClaims.HoldsAsync(connection, tx, projection, owner, timeout.Token, forUpdate: database.Dialect == StoreDialect.Postgres)
                    .ConfigureAwait(false))
                return;
            foreach (var table in tables)
                await Exec(connection, tx, $"DROP TABLE IF EXISTS {table.Shadow}", timeout.Token).ConfigureAwait(false);
            await tx.CommitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DbException or OperationCanceledException)
        {
            // Left for the next rebuild, which drops leftovers first.
        }
    }

    private static Task<int> Exec(DbConnection connection, DbTransaction tx, string sql, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: cancellationToken));

    /// <summary>Table and index names go into DDL unquoted: plain lower-case identifiers only.</summary>
    private static string Checked(string name) =>
        Identifier().IsMatch(name) ? name : throw new InvalidOperationException($"'{name}' is not a plain identifier.");

    /// <summary>A live table's name: a plain identifier short enough that its shadow's name stays within PostgreSQL's 63 bytes
    /// (truncated, the shadow's name would be the live table's own).</summary>
    private static string CheckedTable(string name) =>
        Checked(name)[(name.LastIndexOf('.') + 1)..].Length + ShadowSuffix.Length <= 63
            ? name : throw new InvalidOperationException($"'{name}' is too long to be rebuilt beside (at most {63 - ShadowSuffix.Length} characters).");

    [GeneratedRegex(@"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")]
    private static partial Regex Identifier();

    /// <summary>"CREATE UNIQUE INDEX name ON table " — what precedes the column list.</summary>
    [GeneratedRegex(@"^\s*CREATE\s+UNIQUE\s+INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?\S+\s+ON\s+[^\s(]+\s*", RegexOptions.IgnoreCase)]
    private static partial Regex CreateIndexHead();

    [GeneratedRegex(@"^(?<head>\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?)(?<name>""[^""]+""|`[^`]+`|\[[^\]]+\]|[^\s(]+)", RegexOptions.IgnoreCase)]
    private static partial Regex CreateTableName();
}
