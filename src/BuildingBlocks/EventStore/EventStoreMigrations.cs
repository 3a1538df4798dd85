using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.BuildingBlocks.EventStore;

public static class EventStoreMigrations
{
    /// <summary>The event store's own schema (module <c>event_store</c>).</summary>
    public static IMigrationSource Source { get; } = new EmbeddedMigrationSource(
        "event_store", typeof(EventStoreMigrations).Assembly, "Triggers.Modular.BuildingBlocks.EventStore");
}
