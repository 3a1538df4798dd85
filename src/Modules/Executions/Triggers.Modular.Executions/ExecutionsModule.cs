using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.Executions.Contracts;

namespace Triggers.Modular.Executions;

internal sealed class ExecutionsModule : IExecutionsModule;

public static class ExecutionsModuleRegistration
{
    /// <summary>Registers the module's services. The module has no capabilities yet (foundation issue).</summary>
    public static IServiceCollection AddExecutionsModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton<IExecutionsModule, ExecutionsModule>();
        return services;
    }
}
