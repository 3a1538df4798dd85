using System.Globalization;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.Tenancy.Contracts;
using Triggers.Modular.Tenancy.Environments;
using Triggers.Modular.Tenancy.Keys;
using Triggers.Modular.Tenancy.ReadModel;
using Triggers.Modular.Tenancy.Tenants;
using Triggers.Modular.Tenancy.Tests.Support;

namespace Triggers.Modular.Tenancy.Tests.Store;

public sealed class ProjectionTests
{
    private static async Task<(IssuedApiKeyDto Kept, IssuedApiKeyDto Revoked, IssuedApiKeyDto Prod)> SeedAsync(TenancyServices services)
    {
        await services.Module.CreateTenantAsync("acme", "Acme Corp", ["dev"]);
        await services.Module.CreateEnvironmentAsync("acme", "prod");
        await services.Module.CreateTenantAsync("globex", "Globex", []);
        var kept = await services.Module.IssueApiKeyAsync("acme", "dev", "ci", ["events:write"]);
        var revoked = await services.Module.IssueApiKeyAsync("acme", "dev", "old", ["admin"]);
        var prod = await services.Module.IssueApiKeyAsync("acme", "prod", "deploy", ["workflows:write", "workflows:read"]);
        await services.Module.RevokeApiKeyAsync("acme", "dev", revoked.Id);
        return (kept, revoked, prod);
    }

    private static async Task<TResponse> QueryAsync<TResponse>(TenancyServices services, Mediator.IQuery<TResponse> query)
    {
        await using var scope = services.Scope("acme", "dev");
        return await scope.ServiceProvider.GetRequiredService<TenancyMediator>().Send(query);
    }

    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_tenants_environments_and_keys_When_projected_Then_the_lists_show_them_per_scope(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using var services = await TenancyServices.CreateAsync(h);
        var (kept, revoked, prod) = await SeedAsync(services);

        await services.CatchUpProjectionAsync();

        var tenants = (await QueryAsync(services, new ListTenants())).Items;
        Assert.Equal(["acme", "globex"], tenants.Select(t => t.Id));
        Assert.Equal("Acme Corp", tenants[0].Name);
        Assert.Equal(["dev", "prod"], tenants[0].Environments);
        Assert.Equal(["dev", "prod"], (await QueryAsync(services, new ListEnvironments("acme"))).Items.Select(e => e.Name));

        var dev = (await QueryAsync(services, new ListApiKeys("acme", "dev"))).Items;
        // The list's order is (created_at, id): two keys issued within one millisecond come by id, not by issue order.
        Assert.Equal(new[] { kept, revoked }.OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal).Select(k => k.Id), dev.Select(k => k.Id));
        var keptRow = dev.Single(k => k.Id == kept.Id);
        Assert.Equal(new ApiKeyDto(kept.Id, kept.Prefix, "ci", "acme", "dev", ["events:write"], kept.CreatedAt, null) with { Permissions = keptRow.Permissions },
            keptRow);
        Assert.Equal(["events:write"], keptRow.Permissions);
        Assert.NotNull(dev.Single(k => k.Id == revoked.Id).RevokedAt);
        Assert.Equal([prod.Id], (await QueryAsync(services, new ListApiKeys("acme", "prod"))).Items.Select(k => k.Id));
        Assert.Empty((await QueryAsync(services, new ListApiKeys("globex", "dev"))).Items);
        // The facade's consistent list (folded from the store) agrees with the read model.
        Assert.Equal(dev.Select(k => (k.Id, k.RevokedAt is null)), (await services.Module.ListApiKeysAsync("acme", "dev")).Select(k => (k.Id, k.RevokedAt is null)));
    }

    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_issued_keys_When_every_stored_value_is_read_Then_no_token_is_anywhere_and_no_hash_is_in_the_read_model(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using var services = await TenancyServices.CreateAsync(h);
        var (kept, revoked, prod) = await SeedAsync(services);
        await services.CatchUpProjectionAsync();
        var tokens = new[] { kept.Token, revoked.Token, prod.Token };
        var secrets = tokens.Select(t => t[31..]).ToArray();
        var hashes = tokens.Select(Keys.Domain.ApiKeyTokens.Hash).ToArray();

        var events = await AllValuesAsync(h.Database, kind == StoreKind.Postgres ? "event_store.events" : "es_events");
        var readModel = new List<string>();
        foreach (var table in new[] { TenancyTables.Tenants(h.Database.Dialect), TenancyTables.Environments(h.Database.Dialect), TenancyTables.ApiKeys(h.Database.Dialect) })
            readModel.AddRange(await AllValuesAsync(h.Database, table));

        Assert.Equal(3, readModel.Count(v => v.StartsWith("key_", StringComparison.Ordinal)));
        Assert.Contains(events, v => v.Contains(hashes[0], StringComparison.Ordinal)); // by design: ApiKeyIssued holds the hash
        foreach (var value in events.Concat(readModel))
            Assert.DoesNotContain(secrets, s => value.Contains(s, StringComparison.Ordinal));
        foreach (var value in readModel)
            Assert.DoesNotContain(hashes, s => value.Contains(s, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_events_applied_twice_When_the_read_model_is_read_Then_it_is_unchanged(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using var services = await TenancyServices.CreateAsync(h);
        await SeedAsync(services);
        await services.CatchUpProjectionAsync();
        var before = await ReadModelAsync(h.Database);

        var all = await AllEvents.ReadAsync(h.Store, services.Projection.Filter);
        await using (var connection = await h.Database.OpenConnectionAsync())
        {
            await using var tx = await h.Database.BeginWriteTransactionAsync(connection);
            foreach (var e in all)
                await services.Projection.ApplyAsync(e, new ProjectionContext(connection, tx, h.Database.Dialect), default);
            await tx.CommitAsync();
        }

        Assert.Equal(before, await ReadModelAsync(h.Database));
        Assert.Equal(8, all.Count);
    }

    private static async Task<List<string>> ReadModelAsync(IStoreDatabase database)
    {
        var values = new List<string>();
        foreach (var table in new[] { TenancyTables.Tenants(database.Dialect), TenancyTables.Environments(database.Dialect), TenancyTables.ApiKeys(database.Dialect) })
            values.AddRange(await AllValuesAsync(database, table));
        return values;
    }

    /// <summary>Every column of every row, as text, rows in a stable order.</summary>
    private static async Task<List<string>> AllValuesAsync(IStoreDatabase database, string table)
    {
        await using var connection = await database.OpenConnectionAsync();
        var rows = await connection.QueryAsync($"SELECT * FROM {table}");
        return
        [
            .. rows.Cast<IDictionary<string, object?>>()
                .Select(r => r.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Value}")).ToList())
                .OrderBy(r => string.Join("|", r), StringComparer.Ordinal)
                .SelectMany(r => r),
        ];
    }
}
