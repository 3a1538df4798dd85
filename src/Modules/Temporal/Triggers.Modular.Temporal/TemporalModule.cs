using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.Temporal.Contracts;

namespace Triggers.Modular.Temporal;

internal sealed class TemporalModule : ITemporalModule;

public static class TemporalModuleRegistration
{
    /// <summary>Registers the module's services. The module has no capabilities yet (foundation issue).</summary>
    public static IServiceCollection AddTemporalModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton<ITemporalModule, TemporalModule>();
        return services;
    }
}
