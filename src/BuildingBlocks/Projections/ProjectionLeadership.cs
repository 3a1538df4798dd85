using System.Data.Common;
using System.IO.Hashing;
using System.Text;
using Dapper;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.BuildingBlocks.Projections;

/// <summary>
/// One active instance per projection. PostgreSQL: a session advisory lock held on a dedicated connection for as
/// long as the instance leads (released by PostgreSQL if the process dies). SQLite: one runner per projection per
/// process; across processes the checkpoint's compare-and-set still forbids double application.
/// </summary>
internal static class ProjectionLeadership
{
    public static async Task<DbConnection?> TryAcquireAsync(IStoreDatabase database, string projection, CancellationToken cancellationToken)
    {
        var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (database.Dialect != StoreDialect.Postgres) return connection;

        var acquired = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT pg_try_advisory_lock(@key)", new { key = LockKey(projection) }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (acquired) return connection;
        await connection.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    public static async Task ReleaseAsync(IStoreDatabase database, DbConnection leadership, string projection)
    {
        try
        {
            if (database.Dialect == StoreDialect.Postgres && leadership.State == System.Data.ConnectionState.Open)
                await leadership.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key = LockKey(projection) }).ConfigureAwait(false);
        }
        catch (DbException)
        {
            // A broken session has already released its advisory locks.
        }
        finally
        {
            await leadership.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A 64-bit key from the name, in a namespace of its own ("projection:").</summary>
    internal static long LockKey(string projection) =>
        BitConverter.ToInt64(XxHash64.Hash(Encoding.UTF8.GetBytes("projection:" + projection)));
}
