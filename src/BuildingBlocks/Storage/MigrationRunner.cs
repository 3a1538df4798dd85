using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Logging;

namespace Triggers.Modular.BuildingBlocks.Storage;

/// <summary>
/// Applies every registered migration not yet recorded in <c>schema_migrations</c>, in (module, version) order,
/// each in its own transaction with its record. Safe to run twice and from two processes at once: PostgreSQL
/// serialises runners with an advisory lock, SQLite with its writer lock (docs/adr/0004).
/// </summary>
public sealed class MigrationRunner(IStoreDatabase database, IEnumerable<IMigrationSource> sources, ILogger<MigrationRunner> logger)
{
    /// <summary>Arbitrary constant advisory-lock key reserved for migrations.</summary>
    private const long PostgresMigrationLockKey = 0x54_4d_4d_49_47_52_41_54; // "TMMIGRAT"

    public async Task<int> MigrateAsync(CancellationToken cancellationToken = default)
    {
        var migrations = sources.SelectMany(s => s.GetMigrations(database.Dialect))
            .OrderBy(m => m.Module, StringComparer.Ordinal).ThenBy(m => m.Version).ToList();

        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (database.Dialect == StoreDialect.Postgres)
            await connection.ExecuteAsync("SELECT pg_advisory_lock(@key)", new { key = PostgresMigrationLockKey }).ConfigureAwait(false);
        try
        {
            return await ApplyAsync(connection, migrations, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (database.Dialect == StoreDialect.Postgres)
                await connection.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key = PostgresMigrationLockKey }).ConfigureAwait(false);
        }
    }

    private async Task<int> ApplyAsync(DbConnection connection, List<Migration> migrations, CancellationToken cancellationToken)
    {
        var applied = 0;
        foreach (var migration in migrations)
        {
            // SQLite: BEGIN IMMEDIATE takes the writer lock, so the "already applied?" read and the apply are atomic.
            await using var tx = await database.BeginWriteTransactionAsync(connection, cancellationToken).ConfigureAwait(false);
            await connection.ExecuteAsync(
                "CREATE TABLE IF NOT EXISTS schema_migrations (module TEXT NOT NULL, version INTEGER NOT NULL, " +
                "name TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (module, version))", transaction: tx).ConfigureAwait(false);
            var done = await connection.ExecuteScalarAsync<int>(
                "SELECT COUNT(*) FROM schema_migrations WHERE module = @Module AND version = @Version", migration, tx).ConfigureAwait(false);
            if (done > 0)
            {
                await tx.RollbackAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            await connection.ExecuteAsync(migration.Sql, transaction: tx).ConfigureAwait(false);
            await connection.ExecuteAsync(
                "INSERT INTO schema_migrations (module, version, name, applied_at) VALUES (@Module, @Version, @Name, @AppliedAt)",
                new { migration.Module, migration.Version, migration.Name, AppliedAt = DateTimeOffset.UtcNow.ToString("O") }, tx).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            applied++;
            logger.LogInformation("Applied migration {Module} {Version} {Name}", migration.Module, migration.Version, migration.Name);
        }

        return applied;
    }
}
