using Npgsql;

namespace Triggers.Modular.BuildingBlocks.Tests.Support;

/// <summary>
/// The PostgreSQL server the tests use: <c>TM_TEST_POSTGRES</c>, or the local cluster that scripts/test.sh starts.
/// Each test gets a database of its own, dropped afterwards, so runs never interfere.
/// </summary>
public static class TestPostgres
{
    public static string AdminConnectionString { get; } =
        Environment.GetEnvironmentVariable("TM_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=5432;Username=tm_test;Password=tm_test;Database=postgres";

    public static async Task<TestDatabase> CreateDatabaseAsync()
    {
        var name = $"tm_test_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            try
            {
                await admin.OpenAsync();
            }
            catch (NpgsqlException ex)
            {
                throw new InvalidOperationException(
                    "PostgreSQL is not reachable for the tests. Run ./scripts/test.sh (it installs and starts it) or set " +
                    $"TM_TEST_POSTGRES. Tried: {new NpgsqlConnectionStringBuilder(AdminConnectionString) { Password = null }}", ex);
            }

            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }

        var connectionString = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
        return new TestDatabase(name, connectionString);
    }

    public sealed class TestDatabase(string name, string connectionString) : IAsyncDisposable
    {
        public string Name { get; } = name;
        public string ConnectionString { get; } = connectionString;

        public async ValueTask DisposeAsync()
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(AdminConnectionString);
            await admin.OpenAsync();
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", admin);
                    await drop.ExecuteNonQueryAsync();
                    return;
                }
                catch (PostgresException ex) when (attempt < 20 && ex.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.ObjectInUse)
                {
                    // An autovacuum worker visiting the database, on a server where the role lacks pg_signal_backend.
                    await Task.Delay(250);
                }
            }
        }
    }
}
