using System.Data.Common;

namespace Triggers.Modular.BuildingBlocks.Storage;

public enum StoreDialect
{
    Sqlite,
    Postgres,
}

/// <summary>The database that holds the event store, checkpoints and read models (one per deployment).</summary>
public interface IStoreDatabase
{
    StoreDialect Dialect { get; }

    /// <summary>Opens a connection, configured for this store (pragmas on SQLite).</summary>
    ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken = default);

    /// <summary>Starts a write transaction: <c>BEGIN IMMEDIATE</c> on SQLite (the writer lock up front).</summary>
    ValueTask<DbTransaction> BeginWriteTransactionAsync(DbConnection connection, CancellationToken cancellationToken = default);
}
