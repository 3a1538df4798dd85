using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;

namespace Triggers.Modular.Tenancy.Tenants.Domain;

internal sealed class TenantDecider : IDecider<TenantState, TenantCommand, IEvent>
{
    public static TenantDecider Instance { get; } = new();

    public TenantState Initial => TenantState.Initial;

    public IReadOnlyList<IEvent> Decide(TenantState state, TenantCommand command) => command switch
    {
        TenantCommand.Create c when state.Exists =>
            throw new ConflictException($"Tenant '{c.TenantId}' already exists.", "tenant-exists"),
        TenantCommand.Create c =>
        [
            new TenantCreated(c.TenantId, c.Name, c.At),
            .. c.Environments.Distinct(StringComparer.Ordinal).Select(e => new EnvironmentCreated(c.TenantId, e, c.At)),
        ],
        TenantCommand.AddEnvironment c when !state.Exists => throw new NotFoundException("Tenant", c.TenantId),
        TenantCommand.AddEnvironment c when state.Environment(c.Environment) is not null =>
            throw new ConflictException($"Environment '{c.Environment}' of tenant '{c.TenantId}' already exists.", "environment-exists"),
        TenantCommand.AddEnvironment c => [new EnvironmentCreated(c.TenantId, c.Environment, c.At)],
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown tenant command."),
    };

    public TenantState Evolve(TenantState state, IEvent @event) => @event switch
    {
        TenantCreated e => state with { TenantId = e.TenantId, Name = e.Name, CreatedAt = e.CreatedAt },
        EnvironmentCreated e => state with { Environments = [.. state.Environments, new EnvironmentState(e.Environment, e.CreatedAt)] },
        _ => state,
    };
}
