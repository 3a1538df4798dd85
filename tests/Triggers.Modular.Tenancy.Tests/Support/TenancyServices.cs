using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.Tenancy.Contracts;
using Triggers.Modular.Tenancy.ReadModel;

namespace Triggers.Modular.Tenancy.Tests.Support;

/// <summary>
/// The module wired as the host wires it (pipeline + module) over a real store: one instance per "process". Two
/// instances over <see cref="StoreHarness.OpenPeerAsync"/> behave like two hosts sharing a database.
/// </summary>
internal sealed class TenancyServices : IAsyncDisposable
{
    private TenancyServices(ServiceProvider provider) => Provider = provider;

    public ServiceProvider Provider { get; }
    public IEventStore Store => Provider.GetRequiredService<IEventStore>();
    public IStoreDatabase Database => Provider.GetRequiredService<IStoreDatabase>();
    public ITenancyModule Module => Provider.GetRequiredService<ITenancyModule>();

    public static Task<TenancyServices> CreateAsync(StoreHarness harness, IDictionary<string, string?>? settings = null, TimeProvider? clock = null) =>
        CreateAsync(harness.Store, harness.Database, settings, clock);

    public static async Task<TenancyServices> CreateAsync(IEventStore store, IStoreDatabase database, IDictionary<string, string?>? settings = null,
        TimeProvider? clock = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton(store);
        services.AddSingleton(database);
        if (clock is not null) services.AddSingleton(clock);
        services.AddMediatorPipeline();
        services.AddTenancyModule(configuration);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        await new MigrationRunner(database, provider.GetServices<IMigrationSource>(), NullLogger<MigrationRunner>.Instance).MigrateAsync();
        return new TenancyServices(provider);
    }

    /// <summary>A scope whose <see cref="RequestContext"/> acts in <paramref name="tenant"/> × <paramref name="environment"/>.</summary>
    public AsyncServiceScope Scope(string? tenant = null, string? environment = null, string? idempotencyKey = null, string actor = "test")
    {
        var scope = Provider.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<RequestContext>();
        context.Actor = actor;
        context.IdempotencyKey = idempotencyKey;
        if (tenant is not null) context.Tenant = new TenantScope(tenant, environment ?? "dev");
        return scope;
    }

    public TenancyProjection Projection => (TenancyProjection)Provider.GetServices<IProjection>().Single(p => p.Name == TenancyProjection.ProjectionName);

    /// <summary>Runs the tenancy projection until it has applied everything committed now.</summary>
    public Task CatchUpProjectionAsync() => ProjectionCatchUp.RunAsync(Provider);

    public ValueTask DisposeAsync() => Provider.DisposeAsync();
}
