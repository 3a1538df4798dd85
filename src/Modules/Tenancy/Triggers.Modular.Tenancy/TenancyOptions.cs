using Microsoft.Extensions.Configuration;

namespace Triggers.Modular.Tenancy;

/// <summary>
/// <c>Tenancy:OperatorTenant</c> (default <c>default</c>): the tenant whose admins manage other tenants;
/// <c>Tenancy:Bootstrap:Enabled</c> (default true): create it and a first admin key on an empty store;
/// <c>Auth:ApiKeyCacheSeconds</c> (default 5): how long a validated key is trusted without reading its stream again.
/// </summary>
internal sealed record TenancyOptions(string OperatorTenant, bool BootstrapEnabled, TimeSpan ApiKeyCacheDuration)
{
    public const string BootstrapEnvironment = "dev";

    public static TenancyOptions From(IConfiguration configuration) => new(
        configuration["Tenancy:OperatorTenant"] is { Length: > 0 } tenant ? tenant : "default",
        configuration.GetValue("Tenancy:Bootstrap:Enabled", defaultValue: true),
        TimeSpan.FromSeconds(Math.Max(0, configuration.GetValue("Auth:ApiKeyCacheSeconds", defaultValue: 5.0))));
}
