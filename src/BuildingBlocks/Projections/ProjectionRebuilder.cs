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

    /// <summary>Wait before trying the final step again (the live tables' lock not granted in time, or — compare mode — the
    /// live projection still behind the rebuilt one).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>PostgreSQL: how long the final step waits for the live tables' lock before giving way (readers queue behind
    /// a waiting lock) and trying again.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(5);

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
        var tables = projection.Tables(dialect).Select(t => new ShadowTable(Checked(t), Checked(t) + ShadowSuffix)).ToList();
        var names = tables.ToDictionary(t => t.Live, t => t.Shadow, StringComparer.Ordinal);

        var leadership = await ProjectionLeadership.TryAcquireAsync(database, projection.Name + "@rebuild", cancellationToken).ConfigureAwait(false)
                         ?? throw new InvalidOperationException($"'{projection.Name}' is being rebuilt by another instance.");
        try
        {
            await ProjectionCheckpoints.LoadAsync(leadership, projection.Name, cancellationToken).ConfigureAwait(false);
            await using (var tx = await database.BeginWriteTransactionAsync(leadership, cancellationToken).ConfigureAwait(false))
            {
                foreach (var table in tables)
                    await CreateShadowAsync(leadership, tx, dialect, table, cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            var head = await store.ReadHeadPositionAsync(cancellationToken).ConfigureAwait(false);
            var counted = await store.CountAllAfterAsync(GlobalPosition.Start, projection.Filter, cancellationToken).ConfigureAwait(false);
            job.SetTotal(counted);

            // Replay: one transaction per page, the live tables untouched; the next page is read while this one is applied.
            var position = GlobalPosition.Start;
            var recounted = Stopwatch.GetTimestamp();
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
                var outcome = await TryFinishAsync(job, store, database, options, tables, names, position, cancellationToken).ConfigureAwait(false);
                if (outcome.Done) return outcome.Comparison;
                position = outcome.Position;
                if (attempt >= options.FinishAttempts)
                    throw new InvalidOperationException($"'{projection.Name}': the final step did not succeed after {attempt} attempts ({outcome.Reason}).");
                await Task.Delay(options.RetryDelay, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await DropShadowsAsync(database, tables).ConfigureAwait(false);
            await ProjectionLeadership.ReleaseAsync(database, leadership, projection.Name + "@rebuild").ConfigureAwait(false);
        }
    }

    private sealed record Outcome(bool Done, GlobalPosition Position, IReadOnlyList<TableComparison>? Comparison = null, string? Reason = null);

    /// <summary>The final step, in one write transaction: lock the live tables, then the checkpoint row (the order a page
    /// transaction of the live runner takes them in: rows first, checkpoint last — a page in flight finishes first); bring
    /// the shadow to the live checkpoint; swap or compare.</summary>
    private static async Task<Outcome> TryFinishAsync(ProjectionRebuild job, IEventStore store, IStoreDatabase database, RebuildOptions options,
        IReadOnlyList<ShadowTable> tables, IReadOnlyDictionary<string, string> names, GlobalPosition position, CancellationToken cancellationToken)
    {
        var projection = job.Projection;
        var dialect = database.Dialect;
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await database.BeginWriteTransactionAsync(connection, cancellationToken).ConfigureAwait(false);
        try
        {
            if (dialect == StoreDialect.Postgres)
            {
                await Exec(connection, tx, $"SET LOCAL lock_timeout = {(long)options.LockTimeout.TotalMilliseconds}", cancellationToken).ConfigureAwait(false);
                await Exec(connection, tx, $"LOCK TABLE {string.Join(", ", tables.Select(t => t.Live))} IN ACCESS EXCLUSIVE MODE", cancellationToken)
                    .ConfigureAwait(false);
            }

            var live = await ProjectionCheckpoints.ReadForUpdateAsync(connection, tx, dialect, projection.Name, cancellationToken).ConfigureAwait(false);
            if (position > live && job.Mode == RebuildMode.Compare)
                return new Outcome(false, position, Reason: $"the live projection is at {live}, behind the rebuilt one at {position}");

            // Bring the shadow to exactly the live checkpoint (everything up to it was visible to the live runner, so it is to
            // this read). Applied in this transaction: counted only once it has served.
            var context = new ProjectionContext(connection, tx, dialect, names);
            var (reached, applied) = (position, 0);
            while (reached < live)
            {
                var slice = await store.ReadAllForwardAsync(reached, 1000, projection.Filter, cancellationToken).ConfigureAwait(false);
                var events = slice.Events.Where(e => e.Position <= live).ToList();
                if (events.Count > 0) await projection.ApplyBatchAsync(events, context, cancellationToken).ConfigureAwait(false);
                var next = slice.ScannedUpTo > live ? live : slice.ScannedUpTo;
                if (next <= reached)
                    return new Outcome(false, position, Reason: "events up to the live checkpoint are not visible yet");
                (reached, applied) = (next, applied + events.Count);
            }

            if (job.Mode == RebuildMode.Compare)
            {
                var comparison = new List<TableComparison>();
                foreach (var table in tables)
                    comparison.Add(await CompareAsync(connection, tx, dialect, table, cancellationToken).ConfigureAwait(false));
                job.Advance(applied, reached);
                return new Outcome(true, reached, comparison); // the transaction rolls back; the shadows are dropped after
            }

            foreach (var table in tables)
                await SwapAsync(connection, tx, dialect, table, cancellationToken).ConfigureAwait(false);
            // The live runner's next compare-and-set fails when this moves its checkpoint (a shadow ahead of it): it reloads
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

        // SQLite: the live table's own DDL under the shadow's name; its secondary indexes are created at the swap, under their
        // names (SQLite cannot rename an index). The primary key's index comes with the table.
        var sql = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = @name", new { name = table.Live }, tx, cancellationToken: cancellationToken))
            .ConfigureAwait(false) ?? throw new InvalidOperationException($"No table '{table.Live}'.");
        var renamed = CreateTableName().Replace(sql, m => m.Groups["name"].Value.Trim('"', '`', '[', ']') == table.Live
            ? m.Groups["head"].Value + table.Shadow : m.Value, 1);
        if (ReferenceEquals(renamed, sql) || renamed == sql) throw new InvalidOperationException($"Cannot read the DDL of '{table.Live}'.");
        await Exec(connection, tx, renamed, cancellationToken).ConfigureAwait(false);
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

        var indexes = (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = @name AND sql IS NOT NULL", new { name = table.Live }, tx,
            cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        await Exec(connection, tx, $"DROP TABLE {table.Live}", cancellationToken).ConfigureAwait(false);
        await Exec(connection, tx, $"ALTER TABLE {table.Shadow} RENAME TO {table.Live}", cancellationToken).ConfigureAwait(false);
        foreach (var index in indexes)
            await Exec(connection, tx, index, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<TableComparison> CompareAsync(DbConnection connection, DbTransaction tx, StoreDialect dialect, ShadowTable table,
        CancellationToken cancellationToken)
    {
        // PostgreSQL compares whole rows as text (json columns have no equality); both tables have the same columns in the same
        // order (the shadow was made from the live one). SQLite's EXCEPT is a set operation: rows are distinct (primary keys).
        var (l, s) = (table.Live, table.Shadow);
        var sql = dialect == StoreDialect.Postgres
            ? $"SELECT (SELECT count(*) FROM {l}), (SELECT count(*) FROM {s}), " +
              $"(SELECT count(*) FROM (SELECT x::text FROM {l} x EXCEPT ALL SELECT y::text FROM {s} y) a), " +
              $"(SELECT count(*) FROM (SELECT y::text FROM {s} y EXCEPT ALL SELECT x::text FROM {l} x) b)"
            : $"SELECT (SELECT count(*) FROM {l}), (SELECT count(*) FROM {s}), " +
              $"(SELECT count(*) FROM (SELECT * FROM {l} EXCEPT SELECT * FROM {s})), (SELECT count(*) FROM (SELECT * FROM {s} EXCEPT SELECT * FROM {l}))";
        var (liveRows, rebuiltRows, onlyLive, onlyRebuilt) = await connection.QuerySingleAsync<(long, long, long, long)>(
            new CommandDefinition(sql, transaction: tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new TableComparison(l, liveRows, rebuiltRows, onlyLive, onlyRebuilt);
    }

    /// <summary>Best effort: after a swap the shadows are gone; after a compare or a failure they are dropped here, else by the
    /// next rebuild.</summary>
    private static async Task DropShadowsAsync(IStoreDatabase database, IReadOnlyList<ShadowTable> tables)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await using var connection = await database.OpenConnectionAsync(timeout.Token).ConfigureAwait(false);
            await using var tx = await database.BeginWriteTransactionAsync(connection, timeout.Token).ConfigureAwait(false);
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
        Identifier().IsMatch(name) ? name : throw new InvalidOperationException($"'{name}' is not a plain table name.");

    [GeneratedRegex(@"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"^(?<head>\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?)(?<name>""[^""]+""|`[^`]+`|\[[^\]]+\]|[^\s(]+)", RegexOptions.IgnoreCase)]
    private static partial Regex CreateTableName();
}
