using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Npgsql;
using Triggers.Modular.BuildingBlocks.EventStore.Postgres;
using Triggers.Modular.BuildingBlocks.EventStore.Sqlite;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.BuildingBlocks.EventStore;

public static class EventStoreRegistration
{
    /// <summary>
    /// Registers the event store from configuration: <c>EventStore:Provider</c> = <c>sqlite</c> (default, file at
    /// <c>EventStore:Sqlite:Path</c>) or <c>postgres</c> (connection string <c>EventStore:Postgres:ConnectionString</c>
    /// or <c>ConnectionStrings:Postgres</c>).
    /// </summary>
    public static IServiceCollection AddEventStore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection("EventStore");
        var options = new EventStoreOptions();
        section.Bind(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(EventStoreMigrations.Source);
        services.AddSingleton<MigrationRunner>();

        var provider = section["Provider"] ?? "sqlite";
        switch (provider.ToUpperInvariant())
        {
            case "SQLITE":
                var sqlite = new SqliteStoreOptions();
                section.GetSection("Sqlite").Bind(sqlite);
                services.AddSingleton(sqlite);
                services.AddSingleton<SqliteStoreDatabase>();
                services.AddSingleton<IStoreDatabase>(sp => sp.GetRequiredService<SqliteStoreDatabase>());
                services.AddSingleton<SqliteEventStore>();
                break;
            case "POSTGRES":
                var connectionString = section["Postgres:ConnectionString"] ?? configuration.GetConnectionString("Postgres")
                    ?? throw new InvalidOperationException(
                        "EventStore:Provider is 'postgres' but neither EventStore:Postgres:ConnectionString nor ConnectionStrings:Postgres is set.");
                services.AddSingleton(sp => PostgresStoreDatabase.CreateDataSource(connectionString, sp.GetRequiredService<ILoggerFactory>()));
                services.AddSingleton<PostgresStoreDatabase>();
                services.AddSingleton<IStoreDatabase>(sp => sp.GetRequiredService<PostgresStoreDatabase>());
                services.AddSingleton(sp => new PostgresAppendSignal(sp.GetRequiredService<NpgsqlDataSource>(),
                    sp.GetRequiredService<ILoggerFactory>().CreateLogger<PostgresAppendSignal>()));
                services.AddSingleton<PostgresEventStore>();
                break;
            default:
                throw new InvalidOperationException($"Unknown EventStore:Provider '{provider}'; use 'sqlite' or 'postgres'.");
        }

        services.AddSingleton<IEventStore>(sp => provider.Equals("postgres", StringComparison.OrdinalIgnoreCase)
            ? sp.GetRequiredService<PostgresEventStore>()
            : sp.GetRequiredService<SqliteEventStore>());
        services.AddSingleton<IEventHistory>(sp => provider.Equals("postgres", StringComparison.OrdinalIgnoreCase)
            ? sp.GetRequiredService<PostgresEventStore>()
            : sp.GetRequiredService<SqliteEventStore>());
        services.AddSingleton<IEventChain>(sp => provider.Equals("postgres", StringComparison.OrdinalIgnoreCase)
            ? sp.GetRequiredService<PostgresEventStore>()
            : sp.GetRequiredService<SqliteEventStore>());
        services.AddSingleton<ChainVerifier>();
        return services;
    }

    /// <summary>Applies pending migrations; call once at start, before serving.</summary>
    public static Task<int> MigrateStoreAsync(this IServiceProvider services, CancellationToken cancellationToken = default) =>
        services.GetRequiredService<MigrationRunner>().MigrateAsync(cancellationToken);
}
