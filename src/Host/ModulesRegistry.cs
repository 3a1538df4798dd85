using Triggers.Modular.Audit;
using Triggers.Modular.Definitions;
using Triggers.Modular.Executions;
using Triggers.Modular.Temporal;
using Triggers.Modular.Tenancy;
using Triggers.Modular.Triggers;

namespace Triggers.Modular.Host;

/// <summary>The one place that wires modules in; each can be switched off with <c>Modules:{Name}:Enabled=false</c>.</summary>
internal static class ModulesRegistry
{
    public static IServiceCollection AddModules(this IServiceCollection services, IConfiguration configuration)
    {
        if (Enabled(configuration, "Tenancy")) services.AddTenancyModule(configuration);
        if (Enabled(configuration, "Definitions")) services.AddDefinitionsModule(configuration);
        if (Enabled(configuration, "Triggers")) services.AddTriggersModule(configuration);
        if (Enabled(configuration, "Executions")) services.AddExecutionsModule(configuration);
        if (Enabled(configuration, "Audit")) services.AddAuditModule(configuration);
        if (Enabled(configuration, "Temporal")) services.AddTemporalModule(configuration);
        else if (Enabled(configuration, "Executions")
            && string.Equals(configuration["Executions:Runtime:Mode"], "temporal", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException(
                "Executions:Runtime:Mode=temporal needs the Temporal module, which Modules:Temporal:Enabled=false switches off: nothing would run executions.");
        return services;
    }

    public static IEndpointRouteBuilder MapModules(this IEndpointRouteBuilder endpoints, IConfiguration configuration)
    {
        if (Enabled(configuration, "Tenancy")) endpoints.MapTenancyEndpoints();
        if (Enabled(configuration, "Definitions")) endpoints.MapDefinitionsEndpoints();
        if (Enabled(configuration, "Triggers")) endpoints.MapTriggersEndpoints();
        if (Enabled(configuration, "Executions")) endpoints.MapExecutionsEndpoints();
        if (Enabled(configuration, "Audit")) endpoints.MapAuditEndpoints();
        if (Enabled(configuration, "Temporal")) endpoints.MapTemporalEndpoints();
        return endpoints;
    }

    private static bool Enabled(IConfiguration configuration, string module) =>
        configuration.GetValue($"Modules:{module}:Enabled", defaultValue: true);
}
