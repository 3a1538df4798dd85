using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.BuildingBlocks.EventStore.Sqlite;

public sealed class SqliteStoreOptions
{
    /// <summary>The database file. Created with its folder when missing.</summary>
    public string Path { get; set; } = "./data/triggers.db";

    /// <summary>
    /// <c>NORMAL</c> (default) survives a killed process: a commit is in the WAL file before it returns.
    /// <c>FULL</c> also survives power loss, at the cost of an fsync per commit.
    /// </summary>
    public string Synchronous { get; set; } = "NORMAL";

    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>One SQLite file in WAL mode. Writers in this process queue on <see cref="WriterGate"/> rather than spin on SQLITE_BUSY.</summary>
public sealed class SqliteStoreDatabase : IStoreDatabase
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);
    private readonly string _connectionString;
    private readonly string _pragmas;

    public SqliteStoreDatabase(SqliteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        FullPath = System.IO.Path.GetFullPath(options.Path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(FullPath)!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = (int)options.BusyTimeout.TotalSeconds,
        }.ToString();
        var synchronous = options.Synchronous.ToUpperInvariant();
        if (synchronous is not ("NORMAL" or "FULL" or "EXTRA"))
            throw new ArgumentException($"EventStore:Sqlite:Synchronous is '{options.Synchronous}'; use NORMAL, FULL or EXTRA.", nameof(options));
        _pragmas = $"PRAGMA busy_timeout = {(int)options.BusyTimeout.TotalMilliseconds}; PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON;";
        WriterGate = Gates.GetOrAdd(FullPath, _ => new SemaphoreSlim(1, 1));
        Signal = SignalFor(FullPath);
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var wal = connection.CreateCommand();
        wal.CommandText = "PRAGMA journal_mode = WAL;";
        wal.ExecuteNonQuery();
    }

    public string FullPath { get; }

    public StoreDialect Dialect => StoreDialect.Sqlite;

    /// <summary>Serialises writers of this file within the process (SQLite allows one writer at a time).</summary>
    internal SemaphoreSlim WriterGate { get; }

    /// <summary>Shared by every store instance on this file in this process.</summary>
    internal Subscriptions.InProcessAppendSignal Signal { get; }

    public async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken = default)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        // A pooled connection can come back with a transaction still open: a command cancelled through sqlite3_interrupt can
        // interrupt the ROLLBACK its transaction's disposal issues, too. Whatever it held was abandoned by its owner; end it,
        // or this caller's BEGIN fails with "cannot start a transaction within a transaction" (seen in the randomized
        // contract test with restarting subscribers).
        if (SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) == 0)
        {
            await using var rollback = connection.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }

        await using var command = connection.CreateCommand();
        command.CommandText = _pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    public ValueTask<DbTransaction> BeginWriteTransactionAsync(DbConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        // deferred: false → BEGIN IMMEDIATE: take the write lock now, not at the first write (no upgrade deadlocks).
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: false));
    }

    private static readonly ConcurrentDictionary<string, Subscriptions.InProcessAppendSignal> Signals = new(StringComparer.Ordinal);

    private static Subscriptions.InProcessAppendSignal SignalFor(string path) => Signals.GetOrAdd(path, _ => new());
}
