using Triggers.Modular.BuildingBlocks.Tests.Support;

namespace Triggers.Modular.BuildingBlocks.Tests.EventStore;

/// <summary>The event-store contract on the embedded SQLite adapter.</summary>
public sealed class SqliteEventStoreContractTests : EventStoreContract
{
    protected override StoreKind Kind => StoreKind.Sqlite;
}

/// <summary>The event-store contract on the PostgreSQL adapter.</summary>
public sealed class PostgresEventStoreContractTests : EventStoreContract
{
    protected override StoreKind Kind => StoreKind.Postgres;
}
