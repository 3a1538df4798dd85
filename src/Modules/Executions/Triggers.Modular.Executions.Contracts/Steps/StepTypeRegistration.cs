using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Triggers.Modular.Executions.Contracts.Steps;

public static class StepTypeRegistration
{
    /// <summary>Registers a step type; a host adds its own the same way the Executions module adds the built-ins.</summary>
    public static IServiceCollection AddStepType<TStepType>(this IServiceCollection services) where TStepType : class, IStepType
    {
        services.AddSingleton<IStepType, TStepType>();
        services.TryAddSingleton<IStepTypeRegistry, StepTypeRegistry>();
        return services;
    }
}

internal sealed class StepTypeRegistry : IStepTypeRegistry
{
    private readonly Dictionary<string, IStepType> _byName;

    public StepTypeRegistry(IEnumerable<IStepType> types)
    {
        _byName = new Dictionary<string, IStepType>(StringComparer.Ordinal);
        foreach (var type in types)
            if (!_byName.TryAdd(type.Name, type))
                throw new InvalidOperationException($"Two step types are named '{type.Name}'.");
    }

    public IReadOnlyCollection<IStepType> All => _byName.Values;

    public bool TryGet(string name, out IStepType stepType) => _byName.TryGetValue(name, out stepType!);
}
