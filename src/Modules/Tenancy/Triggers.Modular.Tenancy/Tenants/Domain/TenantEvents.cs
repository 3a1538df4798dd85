using Triggers.Modular.BuildingBlocks.Aggregates;

namespace Triggers.Modular.Tenancy.Tenants.Domain;

/// <summary>Stream <c>tenant-{tenant_id}</c>, first event. Stored as <c>tenancy.tenant_created</c>.</summary>
internal sealed record TenantCreated(string TenantId, string Name, DateTimeOffset CreatedAt) : IEvent;

/// <summary>Stream <c>tenant-{tenant_id}</c>. Stored as <c>tenancy.environment_created</c>.</summary>
internal sealed record EnvironmentCreated(string TenantId, string Environment, DateTimeOffset CreatedAt) : IEvent;
