using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.Tenancy.Tests.Support;

namespace Triggers.Modular.Tenancy.Tests.Store;

public sealed class FacadeTests
{
    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_a_tenant_When_keys_are_issued_listed_and_revoked_Then_lists_are_consistent_without_the_projection(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using var services = await TenancyServices.CreateAsync(h);
        var module = services.Module.WithActor("cli");
        var tenant = await module.CreateTenantAsync("acme", "Acme Corp", ["dev"]);
        var prod = await module.CreateEnvironmentAsync("acme", "prod");
        var key = await module.IssueApiKeyAsync("acme", "prod", "deploy", ["workflows:write"]);

        await module.RevokeApiKeyAsync("acme", "prod", key.Id);
        await module.RevokeApiKeyAsync("acme", "prod", key.Id); // twice: a no-op

        Assert.Equal(("acme", "Acme Corp"), (tenant.Id, tenant.Name));
        Assert.Equal(["dev"], tenant.Environments);
        Assert.Equal(("acme", "prod"), (prod.TenantId, prod.Name));
        var listed = Assert.Single(await module.ListApiKeysAsync("acme", "prod"));
        Assert.Equal((key.Id, key.Prefix, "deploy"), (listed.Id, listed.Prefix, listed.Name));
        Assert.NotNull(listed.RevokedAt);
        Assert.Empty(await module.ListApiKeysAsync("acme", "dev"));
        Assert.Equal(["dev", "prod"], Assert.Single(await module.ListTenantsAsync()).Environments);

        var keyEvents = await h.Store.ReadStreamAsync($"apikey-{key.Id}", ReadDirection.Forward, 0, 10);
        Assert.Equal(["tenancy.api_key_issued", "tenancy.api_key_revoked"], keyEvents.Select(e => e.Type));
        Assert.All(keyEvents, e => Assert.Equal(("acme", "prod", "cli"), (e.Metadata.TenantId, e.Metadata.Environment, e.Metadata.Actor)));
        var tenantEvents = await h.Store.ReadStreamAsync("tenant-acme", ReadDirection.Forward, 0, 10);
        Assert.All(tenantEvents, e => Assert.Equal("acme", e.Metadata.TenantId));
    }

    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_missing_or_foreign_targets_When_acting_Then_not_found_or_conflict(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using var services = await TenancyServices.CreateAsync(h);
        var module = services.Module;
        await module.CreateTenantAsync("acme", "Acme", ["dev"]);
        await module.CreateTenantAsync("globex", "Globex", ["dev"]);
        var key = await module.IssueApiKeyAsync("acme", "dev", "ci", ["admin"]);

        await Assert.ThrowsAsync<ConflictException>(() => module.CreateTenantAsync("acme", "Again", []));
        await Assert.ThrowsAsync<ConflictException>(() => module.CreateEnvironmentAsync("acme", "dev"));
        await Assert.ThrowsAsync<NotFoundException>(() => module.CreateEnvironmentAsync("ghost", "dev"));
        await Assert.ThrowsAsync<NotFoundException>(() => module.IssueApiKeyAsync("ghost", "dev", "ci", ["admin"]));
        await Assert.ThrowsAsync<NotFoundException>(() => module.IssueApiKeyAsync("acme", "prod", "ci", ["admin"]));
        await Assert.ThrowsAsync<NotFoundException>(() => module.RevokeApiKeyAsync("globex", "dev", key.Id));
        await Assert.ThrowsAsync<NotFoundException>(() => module.RevokeApiKeyAsync("acme", "prod", key.Id));
        await Assert.ThrowsAsync<NotFoundException>(() => module.RevokeApiKeyAsync("acme", "dev", "key_01JD0000000000000000000000"));
        await Assert.ThrowsAsync<NotFoundException>(() => module.RevokeApiKeyAsync("acme", "dev", "not-a-key-id"));
        Assert.Null(Assert.Single(await module.ListApiKeysAsync("acme", "dev")).RevokedAt);
    }

    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_concurrent_writers_When_they_race_on_one_tenant_Then_distinct_environments_all_land_and_a_duplicate_tenant_is_a_conflict(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using var services = await TenancyServices.CreateAsync(h);
        var module = services.Module;
        await module.CreateTenantAsync("acme", "Acme", []);

        await Task.WhenAll(new[] { "e1", "e2", "e3" }.Select(e => Task.Run(() => module.CreateEnvironmentAsync("acme", e))));
        var creates = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            try
            {
                await module.CreateTenantAsync("globex", "Globex", []);
                return "created";
            }
            catch (ConflictException)
            {
                return "conflict";
            }
        })));

        Assert.Equal(["e1", "e2", "e3"], (await module.ListTenantsAsync()).Single(t => t.Id == "acme").Environments.Order());
        Assert.Equal(["conflict", "conflict", "created"], creates.Order());
    }
}
