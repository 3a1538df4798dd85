namespace Triggers.Modular.Tenancy.Tenants.Domain;

internal sealed record EnvironmentState(string Name, DateTimeOffset CreatedAt);

/// <summary>A tenant as folded from its stream; <see cref="Initial"/> when the stream is empty.</summary>
internal sealed record TenantState(string? TenantId, string Name, DateTimeOffset CreatedAt, IReadOnlyList<EnvironmentState> Environments)
{
    public static TenantState Initial { get; } = new(null, "", default, []);

    public bool Exists => TenantId is not null;

    public EnvironmentState? Environment(string name) => Environments.FirstOrDefault(e => e.Name == name);
}

/// <summary>What a caller may ask of a tenant. Times are passed in, so the decider stays pure.</summary>
internal abstract record TenantCommand
{
    public sealed record Create(string TenantId, string Name, IReadOnlyList<string> Environments, DateTimeOffset At) : TenantCommand;

    public sealed record AddEnvironment(string TenantId, string Environment, DateTimeOffset At) : TenantCommand;
}
