using System.Data.Common;
using Npgsql;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.BuildingBlocks.EventStore.Postgres;

public sealed class PostgresStoreDatabase(NpgsqlDataSource dataSource) : IStoreDatabase, IAsyncDisposable
{
    public NpgsqlDataSource DataSource { get; } = dataSource;

    public StoreDialect Dialect => StoreDialect.Postgres;

    public async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken = default) =>
        await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

    public async ValueTask<DbTransaction> BeginWriteTransactionAsync(DbConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
