using Microsoft.Extensions.DependencyInjection;

namespace Triggers.Modular.Executions.Contracts.Steps.BuiltIn;

public static class BuiltInStepTypeRegistration
{
    /// <summary>Registers <c>http</c>, <c>delay</c>, <c>set</c> and <c>emit_event</c> and the registry. Safe to call more than
    /// once, so a host and the Executions module can both call it.</summary>
    public static IServiceCollection AddBuiltInStepTypes(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(IStepType) && d.ImplementationType == typeof(HttpStepType)))
            return services;
        return services
            .AddStepType<HttpStepType>()
            .AddStepType<DelayStepType>()
            .AddStepType<SetStepType>()
            .AddStepType<EmitEventStepType>();
    }
}
