using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.Tenancy.Tenants.Domain;

namespace Triggers.Modular.Tenancy.Tests.Domain;

public sealed class TenantDeciderTests
{
    private static readonly DateTimeOffset At = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly TenantDecider Decider = TenantDecider.Instance;

    private static TenantState Given(params IEvent[] events) => events.Aggregate(Decider.Initial, Decider.Evolve);

    [Fact]
    public void Given_no_tenant_When_created_with_environments_Then_the_tenant_and_each_distinct_environment_are_created()
    {
        var events = Decider.Decide(Decider.Initial, new TenantCommand.Create("acme", "Acme Corp", ["dev", "prod", "dev"], At));

        Assert.Equal<IEvent>(
            [new TenantCreated("acme", "Acme Corp", At), new EnvironmentCreated("acme", "dev", At), new EnvironmentCreated("acme", "prod", At)],
            events);
        var state = events.Aggregate(Decider.Initial, Decider.Evolve);
        Assert.True(state.Exists);
        Assert.Equal(["dev", "prod"], state.Environments.Select(e => e.Name));
    }

    [Fact]
    public void Given_an_existing_tenant_When_created_again_Then_conflict()
    {
        var state = Given(new TenantCreated("acme", "Acme", At));

        var error = Assert.Throws<ConflictException>(() => Decider.Decide(state, new TenantCommand.Create("acme", "Other", [], At)));
        Assert.Equal(409, error.Status);
    }

    [Fact]
    public void Given_a_tenant_When_an_environment_is_added_Then_it_is_created()
    {
        var state = Given(new TenantCreated("acme", "Acme", At), new EnvironmentCreated("acme", "dev", At));

        var events = Decider.Decide(state, new TenantCommand.AddEnvironment("acme", "prod", At.AddMinutes(1)));

        Assert.Equal<IEvent>([new EnvironmentCreated("acme", "prod", At.AddMinutes(1))], events);
    }

    [Fact]
    public void Given_an_existing_environment_When_added_again_Then_conflict()
    {
        var state = Given(new TenantCreated("acme", "Acme", At), new EnvironmentCreated("acme", "dev", At));

        Assert.Throws<ConflictException>(() => Decider.Decide(state, new TenantCommand.AddEnvironment("acme", "dev", At)));
    }

    [Fact]
    public void Given_no_tenant_When_an_environment_is_added_Then_not_found()
    {
        Assert.Throws<NotFoundException>(() => Decider.Decide(Decider.Initial, new TenantCommand.AddEnvironment("ghost", "dev", At)));
    }
}
