using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.Definitions.Contracts;

namespace Triggers.Modular.Definitions;

internal sealed class DefinitionsModule : IDefinitionsModule;

public static class DefinitionsModuleRegistration
{
    /// <summary>Registers the module's services. The module has no capabilities yet (foundation issue).</summary>
    public static IServiceCollection AddDefinitionsModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton<IDefinitionsModule, DefinitionsModule>();
        return services;
    }
}
