using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.Triggers.Contracts;

namespace Triggers.Modular.Triggers;

internal sealed class TriggersModule : ITriggersModule;

public static class TriggersModuleRegistration
{
    /// <summary>Registers the module's services. The module has no capabilities yet (foundation issue).</summary>
    public static IServiceCollection AddTriggersModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton<ITriggersModule, TriggersModule>();
        return services;
    }
}
