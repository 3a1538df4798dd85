using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.Tenancy.Contracts;
using Triggers.Modular.Tenancy.Tests.Support;

namespace Triggers.Modular.Tenancy.Tests.Store;

public sealed class FirstRunTests
{
    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_an_empty_store_When_two_processes_run_first_run_at_once_Then_exactly_one_admin_key_is_created(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        var instances = new List<TenancyServices> { await TenancyServices.CreateAsync(h) };
        for (var i = 0; i < 3; i++) instances.Add(await TenancyServices.CreateAsync(await h.OpenPeerAsync(), h.OpenDatabase()));
        try
        {
            using var start = new SemaphoreSlim(0);
            var runs = instances.Select(s => Task.Run(async () =>
            {
                await start.WaitAsync();
                return await s.Module.EnsureFirstRunAsync();
            })).ToList();
            start.Release(runs.Count);
            var results = await Task.WhenAll(runs);

            var created = Assert.Single(results, r => r is not null)!;
            Assert.Equal(("default", "dev"), (created.TenantId, created.Environment));
            Assert.Equal(Permissions.All.Order(), created.Permissions.Order());
            Assert.Single(await AllEvents.ReadAsync(h.Store, AllFilter.ForEventTypePrefixes("tenancy.api_key_issued")));
            Assert.Null(await instances[0].Module.EnsureFirstRunAsync());
        }
        finally
        {
            foreach (var s in instances) await s.DisposeAsync();
        }
    }

    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_bootstrap_disabled_or_an_existing_tenant_When_first_run_runs_Then_nothing_is_created(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using (var disabled = await TenancyServices.CreateAsync(h, new Dictionary<string, string?> { ["Tenancy:Bootstrap:Enabled"] = "false" }))
            Assert.Null(await disabled.Module.EnsureFirstRunAsync());
        Assert.Empty(await AllEvents.ReadAsync(h.Store));

        await using var services = await TenancyServices.CreateAsync(h, new Dictionary<string, string?> { ["Tenancy:OperatorTenant"] = "ops" });
        await services.Module.CreateTenantAsync("acme", "Acme", []);
        Assert.Null(await services.Module.EnsureFirstRunAsync());
        Assert.Equal(["acme"], (await services.Module.ListTenantsAsync()).Select(t => t.Id));
    }

    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_a_configured_operator_tenant_When_first_run_creates_Then_the_key_belongs_to_it_and_works(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using var services = await TenancyServices.CreateAsync(h, new Dictionary<string, string?> { ["Tenancy:OperatorTenant"] = "ops" });

        IssuedApiKeyDto? created = await services.Module.EnsureFirstRunAsync();

        Assert.NotNull(created);
        Assert.Equal("ops", created.TenantId);
        var tenant = Assert.Single(await services.Module.ListTenantsAsync());
        Assert.Equal(("ops", "dev"), (tenant.Id, Assert.Single(tenant.Environments)));
        var identity = await services.Provider.GetRequiredService<IApiKeyValidator>().ValidateAsync(created.Token, default);
        Assert.Equal(("ops", "dev", created.Id), (identity?.TenantId, identity?.Environment, identity?.KeyId));
    }
}
