using System.Globalization;
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

    /// <summary>A time as a parameter: <c>timestamptz</c> on PostgreSQL, ISO 8601 UTC text on SQLite.</summary>
    public static object? Time(StoreDialect dialect, DateTimeOffset? value) => value switch
    {
        null => null,
        { } v when dialect == StoreDialect.Postgres => v.UtcDateTime,
        { } v => v.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
    };

    /// <summary>A time column as read by either provider.</summary>
    public static DateTimeOffset ReadTime(object value) => value switch
    {
        DateTime d => new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)),
        DateTimeOffset o => o,
        string s => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
        _ => throw new InvalidOperationException($"Unexpected time value of type {value.GetType().Name}."),
    };

    public static DateTimeOffset? ReadNullableTime(object? value) => value is null or DBNull ? null : ReadTime(value);

    public static string PermissionsJson(IReadOnlyList<string> permissions) => JsonSerializer.Serialize(permissions);

    public static IReadOnlyList<string> ReadPermissions(string json) => JsonSerializer.Deserialize<List<string>>(json) ?? [];
}
