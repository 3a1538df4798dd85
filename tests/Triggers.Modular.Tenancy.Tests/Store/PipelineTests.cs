using Dapper;
using FluentValidation;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.Tenancy.Contracts;
using Triggers.Modular.Tenancy.Environments;
using Triggers.Modular.Tenancy.Keys;
using Triggers.Modular.Tenancy.Tenants;
using Triggers.Modular.Tenancy.Tests.Support;

namespace Triggers.Modular.Tenancy.Tests.Store;

/// <summary>The module's generated mediator runs the host's pipeline (registered once by AddMediatorPipeline).</summary>
public sealed class PipelineTests
{
    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_an_invalid_command_When_sent_Then_the_validation_behaviour_refuses_it_and_nothing_is_stored(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using var services = await TenancyServices.CreateAsync(h);
        await using var scope = services.Scope("default", "dev");

        var error = await Assert.ThrowsAsync<ValidationException>(async () =>
            await scope.ServiceProvider.GetRequiredService<TenancyMediator>().Send(new CreateTenant("Not A Slug", "x", ["prod", "Prod"])));

        Assert.Equal(["Id", "Environments[1]"], error.Errors.Select(e => e.PropertyName));
        Assert.Empty(await AllEvents.ReadAsync(h.Store));
    }

    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_a_tenant_scoped_command_without_a_caller_scope_When_sent_Then_the_tenant_behaviour_refuses_it(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using var services = await TenancyServices.CreateAsync(h);
        await using var scope = services.Scope();

        await Assert.ThrowsAsync<UnauthenticatedException>(async () =>
            await scope.ServiceProvider.GetRequiredService<TenancyMediator>().Send(new IssueApiKey("acme", "dev", "ci", ["admin"])));
    }

    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_an_idempotency_key_When_a_create_is_retried_and_rerun_after_a_lost_record_Then_one_event_and_the_same_answer(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using var services = await TenancyServices.CreateAsync(h);
        await services.Module.CreateTenantAsync("acme", "Acme", ["dev"]);

        async Task<(EnvironmentDto, bool Replayed)> SendAsync()
        {
            await using var scope = services.Scope("acme", "dev", idempotencyKey: "k-1");
            var dto = await scope.ServiceProvider.GetRequiredService<TenancyMediator>().Send(new CreateEnvironment("acme", "prod"));
            return (dto, scope.ServiceProvider.GetRequiredService<RequestContext>().IdempotentReplay);
        }

        var (first, firstReplayed) = await SendAsync();
        var (retry, retryReplayed) = await SendAsync();
        // A crash after the append but before the idempotency record completed: the record is gone, the command runs
        // again, and its deterministic event ids make the append a recognised replay.
        await using (var connection = await h.Database.OpenConnectionAsync())
            await connection.ExecuteAsync(kind == StoreKind.Postgres ? "DELETE FROM platform.idempotency_records" : "DELETE FROM platform_idempotency_records");
        var (rerun, rerunReplayed) = await SendAsync();

        Assert.Equal((false, true, false), (firstReplayed, retryReplayed, rerunReplayed));
        Assert.Equal(first, retry);
        Assert.Equal(first, rerun);
        var stream = await h.Store.ReadStreamAsync("tenant-acme", ReadDirection.Forward, 0, 100);
        Assert.Single(stream, e => e.Type == "tenancy.environment_created" && e.Data.Contains("\"prod\"", StringComparison.Ordinal));
    }
}
