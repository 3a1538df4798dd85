using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.Audit.Contracts;

namespace Triggers.Modular.Audit;

internal sealed class AuditModule : IAuditModule;

public static class AuditModuleRegistration
{
    /// <summary>Registers the module's services. The module has no capabilities yet (foundation issue).</summary>
    public static IServiceCollection AddAuditModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton<IAuditModule, AuditModule>();
        return services;
    }
}
