using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Triggers.Modular.Executions.Contracts.Steps;

namespace Triggers.Modular.Executions.Steps.BuiltIn;

internal static class BuiltInStepHandlerRegistration
{
    /// <summary>Registers the handlers of the built-in <c>set</c> and <c>delay</c> steps. Safe to call more than once.</summary>
    public static IServiceCollection AddBuiltInStepHandlers(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        // As AddStepHandler does, but idempotent: a second call adds nothing.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, SetStepHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, DelayStepHandler>());
        return services;
    }
}
