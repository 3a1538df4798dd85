using Triggers.Modular.BuildingBlocks.Storage;
using Dapper;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.Tenancy.Common;
using Triggers.Modular.Tenancy.Keys.Domain;
using Triggers.Modular.Tenancy.Tenants.Domain;

namespace Triggers.Modular.Tenancy.ReadModel;

/// <summary>
/// Tenants, environments and API keys (without token or hash) for the list endpoints. Every write is an upsert, so
/// applying an event twice leaves the same rows (the runner already applies exactly once with its checkpoint).
/// </summary>
internal sealed class TenancyProjection(EventSerializer serializer) : IProjection
{
    public const string ProjectionName = "tenancy";

    public string Name => ProjectionName;

    public AllFilter? Filter { get; } = AllFilter.ForCategories(Streams.TenantCategory, Streams.ApiKeyCategory);

    public IReadOnlyList<string> Tables(StoreDialect dialect) =>
        [TenancyTables.Tenants(dialect), TenancyTables.Environments(dialect), TenancyTables.ApiKeys(dialect)];

    public Task ApplyAsync(RecordedEvent e, ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(context);
        if (!serializer.Registry.IsRegistered(e.Type)) return Task.CompletedTask;
        var d = context.Dialect;
        return serializer.Deserialize(e) switch
        {
            TenantCreated t => context.ExecuteAsync($"INSERT INTO {context.Table(TenancyTables.Tenants(d))} (tenant_id, name, created_at) VALUES (@id, @name, @at) " +
                "ON CONFLICT (tenant_id) DO UPDATE SET name = excluded.name, created_at = excluded.created_at",
                new { id = t.TenantId, name = t.Name, at = SqlTime.Parameter(d, t.CreatedAt) }, cancellationToken),
            EnvironmentCreated env => context.ExecuteAsync($"INSERT INTO {context.Table(TenancyTables.Environments(d))} (tenant_id, name, created_at) VALUES (@id, @name, @at) " +
                "ON CONFLICT (tenant_id, name) DO UPDATE SET created_at = excluded.created_at",
                new { id = env.TenantId, name = env.Environment, at = SqlTime.Parameter(d, env.CreatedAt) }, cancellationToken),
            ApiKeyIssued k => context.ExecuteAsync($"INSERT INTO {context.Table(TenancyTables.ApiKeys(d))} (key_id, tenant_id, environment, name, prefix, permissions, created_at, revoked_at) " +
                "VALUES (@id, @tenant, @environment, @name, @prefix, @permissions, @at, NULL) " +
                "ON CONFLICT (key_id) DO UPDATE SET tenant_id = excluded.tenant_id, environment = excluded.environment, " +
                "name = excluded.name, prefix = excluded.prefix, permissions = excluded.permissions, created_at = excluded.created_at",
                new
                {
                    id = k.KeyId, tenant = k.TenantId, environment = k.Environment, name = k.Name, prefix = k.Prefix,
                    permissions = TenancyTables.PermissionsJson(k.Permissions), at = SqlTime.Parameter(d, k.CreatedAt),
                },
                cancellationToken),
            ApiKeyRevoked r => context.ExecuteAsync($"UPDATE {context.Table(TenancyTables.ApiKeys(d))} SET revoked_at = @at WHERE key_id = @id AND revoked_at IS NULL",
                new { id = r.KeyId, at = SqlTime.Parameter(d, r.RevokedAt) }, cancellationToken),
            _ => Task.CompletedTask,
        };
    }

    public async Task ResetAsync(ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var table in Tables(context.Dialect).Reverse().Select(context.Table))
            await context.ExecuteAsync($"DELETE FROM {table}", null, cancellationToken);
    }
}
