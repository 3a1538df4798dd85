using System.Data.Common;
using Npgsql;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.BuildingBlocks.EventStore.Postgres;

public sealed class PostgresStoreDatabase(NpgsqlDataSource dataSource) : IStoreDatabase, IAsyncDisposable
{
    /// <summary>
    /// The data source the store expects. <c>No Reset On Close</c>: the store leaves no session state behind (advisory
    /// locks are released explicitly, nothing is SET), and the reset on every return to the pool halved append
    /// throughput in docs/benchmarks.md. <c>Maximum Pool Size</c> defaults to <see cref="DefaultMaxPoolSize"/> unless the
    /// connection string sets it: under a burst, requests wait for a pooled connection instead of the server refusing new
    /// ones (its <c>max_connections</c> is 100 by default, shared by every instance and tool).
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString, Microsoft.Extensions.Logging.ILoggerFactory? loggers = null)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        if (!new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
                .Any(k => k.Replace(" ", "", StringComparison.Ordinal).Equals("MaximumPoolSize", StringComparison.OrdinalIgnoreCase)
                          || k.Replace(" ", "", StringComparison.Ordinal).Equals("MaxPoolSize", StringComparison.OrdinalIgnoreCase)))
            builder.ConnectionStringBuilder.MaxPoolSize = DefaultMaxPoolSize;
        if (loggers is not null) builder.UseLoggerFactory(loggers);
        return builder.Build();
    }

    public const int DefaultMaxPoolSize = 40;

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
