using System.Text.Json;
using Dapper;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Definitions.Contracts;

namespace Triggers.Modular.Definitions.ReadModel;

/// <summary>The latest version of every live definition, for the list endpoint. Deleted definitions leave the table.</summary>
internal sealed class DefinitionsProjection(EventSerializer serializer) : IProjection
{
    public static IMigrationSource Migrations { get; } = new EmbeddedMigrationSource(
        "definitions", typeof(DefinitionsProjection).Assembly, "Triggers.Modular.Definitions.ReadModel");

    public string Name => "definitions";

    public AllFilter? Filter { get; } = AllFilter.ForCategories(DefinitionEventTypes.Category);

    public static string Table(StoreDialect dialect) => dialect == StoreDialect.Postgres ? "definitions.definitions" : "definitions_definitions";

    public IReadOnlyList<string> Tables(StoreDialect dialect) => [Table(dialect)];

    public Task ApplyAsync(RecordedEvent e, ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(context);
        if (!serializer.Registry.IsRegistered(e.Type)) return Task.CompletedTask;
        var d = context.Dialect;
        var table = context.Table(Table(d));
        return serializer.Deserialize(e) switch
        {
            DefinitionCreated c => context.ExecuteAsync($"INSERT INTO {table} (definition_id, tenant_id, environment, name, description, version, enabled, created_at, updated_at) " +
                "VALUES (@id, @tenant, @environment, @name, @description, @version, @enabled, @at, @at) ON CONFLICT (definition_id) DO UPDATE SET " +
                "name = excluded.name, description = excluded.description, version = excluded.version, enabled = excluded.enabled, updated_at = excluded.updated_at",
                new { id = c.DefinitionId, tenant = c.TenantId, environment = c.Environment, name = c.Name, description = Description(c.Definition),
                    version = c.Version, enabled = c.Enabled, at = SqlTime.Parameter(d, c.CreatedAt) }, cancellationToken),
            DefinitionUpdated u => context.ExecuteAsync($"UPDATE {table} SET name = @name, description = @description, version = @version, enabled = @enabled, updated_at = @at WHERE definition_id = @id",
                new { id = u.DefinitionId, name = u.Name, description = Description(u.Definition), version = u.Version, enabled = u.Enabled,
                    at = SqlTime.Parameter(d, u.UpdatedAt) }, cancellationToken),
            DefinitionEnabled en => context.ExecuteAsync($"UPDATE {table} SET enabled = @enabled, updated_at = @at WHERE definition_id = @id",
                new { id = en.DefinitionId, enabled = true, at = SqlTime.Parameter(d, en.At) }, cancellationToken),
            DefinitionDisabled di => context.ExecuteAsync($"UPDATE {table} SET enabled = @enabled, updated_at = @at WHERE definition_id = @id",
                new { id = di.DefinitionId, enabled = false, at = SqlTime.Parameter(d, di.At) }, cancellationToken),
            DefinitionDeleted del => context.ExecuteAsync($"DELETE FROM {table} WHERE definition_id = @id", new { id = del.DefinitionId }, cancellationToken),
            _ => Task.CompletedTask,
        };
    }

    public Task ResetAsync(ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.ExecuteAsync($"DELETE FROM {context.Table(Table(context.Dialect))}", null, cancellationToken);
    }

    private static string? Description(JsonElement definition) =>
        definition.ValueKind == JsonValueKind.Object && definition.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String
            ? d.GetString()
            : null;

}
