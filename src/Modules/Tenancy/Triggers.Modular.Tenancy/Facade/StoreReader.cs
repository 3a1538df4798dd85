using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.Tenancy.Common;
using Triggers.Modular.Tenancy.Contracts;
using Triggers.Modular.Tenancy.Keys.Domain;
using Triggers.Modular.Tenancy.Tenants.Domain;

namespace Triggers.Modular.Tenancy.Facade;

/// <summary>
/// Lists folded straight from <c>$all</c>, for the facade: independent of the projection host (which the CLI does not
/// run), and consistent with every write committed before the read started — on PostgreSQL, events that an older open
/// transaction still holds back are waited for (up to <see cref="HeldBackWait"/>, then the read returns what it saw).
/// Tenants and keys are few, so a scan is cheap.
/// </summary>
internal sealed class StoreReader(IEventStore store, EventSerializer serializer)
{
    private const int PageSize = 500;
    private static readonly TimeSpan HeldBackWait = TimeSpan.FromSeconds(5);

    public async Task<bool> AnyTenantAsync(CancellationToken cancellationToken)
    {
        await foreach (var _ in ReadAsync(AllFilter.ForCategories(Streams.TenantCategory), cancellationToken)) return true;
        return false;
    }

    public async Task<IReadOnlyList<TenantDto>> TenantsAsync(CancellationToken cancellationToken)
    {
        var tenants = new SortedDictionary<string, TenantState>(StringComparer.Ordinal);
        await foreach (var e in ReadAsync(AllFilter.ForCategories(Streams.TenantCategory), cancellationToken))
        {
            var tenantId = e switch { TenantCreated c => c.TenantId, EnvironmentCreated c => c.TenantId, _ => null };
            if (tenantId is null) continue;
            tenants[tenantId] = TenantDecider.Instance.Evolve(tenants.GetValueOrDefault(tenantId, TenantState.Initial), e);
        }

        return [.. tenants.Values.Where(t => t.Exists).Select(t => new TenantDto(t.TenantId!, t.Name, [.. t.Environments.Select(e => e.Name)], t.CreatedAt))];
    }

    /// <summary>Keys whose events carry this tenant × environment in their metadata (every key event does).</summary>
    public async Task<IReadOnlyList<ApiKeyDto>> ApiKeysAsync(string tenantId, string environment, CancellationToken cancellationToken)
    {
        var keys = new Dictionary<string, ApiKeyState>(StringComparer.Ordinal);
        var filter = new AllFilter(Categories: [Streams.ApiKeyCategory], TenantId: tenantId, Environment: environment);
        await foreach (var e in ReadAsync(filter, cancellationToken))
        {
            var keyId = e switch { ApiKeyIssued i => i.KeyId, ApiKeyRevoked r => r.KeyId, _ => null };
            if (keyId is null) continue;
            keys[keyId] = ApiKeyDecider.Instance.Evolve(keys.GetValueOrDefault(keyId, ApiKeyState.Initial), e);
        }

        return
        [
            .. keys.Values.Where(k => k.BelongsTo(tenantId, environment)).OrderBy(k => k.CreatedAt).ThenBy(k => k.KeyId, StringComparer.Ordinal)
                .Select(k => new ApiKeyDto(k.KeyId!, k.Prefix, k.Name, k.TenantId, k.Environment, k.Permissions, k.CreatedAt, k.RevokedAt)),
        ];
    }

    private async IAsyncEnumerable<IEvent> ReadAsync(AllFilter filter,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var after = GlobalPosition.Start;
        var deadline = DateTime.UtcNow + HeldBackWait;
        while (true)
        {
            var slice = await store.ReadAllForwardAsync(after, PageSize, filter, cancellationToken);
            foreach (var e in slice.Events)
                if (serializer.Registry.IsRegistered(e.Type) && serializer.Deserialize(e) is IEvent known) yield return known;
            if (slice.IsEnd && (!slice.HeldBack || DateTime.UtcNow > deadline)) yield break;
            if (slice.IsEnd) await Task.Delay(10, cancellationToken);
            after = slice.ScannedUpTo > after ? slice.ScannedUpTo : after;
        }
    }
}
