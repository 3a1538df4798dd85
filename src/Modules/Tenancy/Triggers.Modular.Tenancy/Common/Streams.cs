using Triggers.Modular.BuildingBlocks.EventStore;

namespace Triggers.Modular.Tenancy.Common;

/// <summary>The module's streams: <c>tenant-{tenant_id}</c> (tenant and environments) and <c>apikey-{key_id}</c>.</summary>
internal static class Streams
{
    public const string TenantCategory = "tenant";
    public const string ApiKeyCategory = "apikey";

    public static string Tenant(string tenantId) => StreamName.For(TenantCategory, tenantId);

    public static string ApiKey(string keyId) => StreamName.For(ApiKeyCategory, keyId);
}
