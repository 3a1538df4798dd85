using System.Text.Json;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.Tenancy.ReadModel;

/// <summary>The read model's table names per dialect (a schema on PostgreSQL, a prefix on SQLite) and value conversions.</summary>
internal static class TenancyTables
{
    public static IMigrationSource Migrations { get; } = new EmbeddedMigrationSource(
        "tenancy", typeof(TenancyTables).Assembly, "Triggers.Modular.Tenancy.ReadModel");

    public static string Tenants(StoreDialect dialect) => dialect == StoreDialect.Postgres ? "tenancy.tenants" : "tenancy_tenants";

    public static string Environments(StoreDialect dialect) => dialect == StoreDialect.Postgres ? "tenancy.environments" : "tenancy_environments";

    public static string ApiKeys(StoreDialect dialect) => dialect == StoreDialect.Postgres ? "tenancy.api_keys" : "tenancy_api_keys";

    public static string PermissionsJson(IReadOnlyList<string> permissions) => JsonSerializer.Serialize(permissions);

    public static IReadOnlyList<string> ReadPermissions(string json) => JsonSerializer.Deserialize<List<string>>(json) ?? [];
}
