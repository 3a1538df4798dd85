using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.Contracts.Steps.BuiltIn;

namespace Triggers.Modular.Executions;

internal sealed class ExecutionsModule : IExecutionsModule;

public static class ExecutionsModuleRegistration
{
    /// <summary>Registers the module's services and the built-in step types (<c>http</c>, <c>delay</c>, <c>set</c>,
    /// <c>emit_event</c>); hosts add their own with <c>AddStepType&lt;T&gt;()</c>.</summary>
    public static IServiceCollection AddExecutionsModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton<IExecutionsModule, ExecutionsModule>();
        services.AddBuiltInStepTypes();
        return services;
    }
}
