using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Triggers.Modular.Tenancy.Environments;
using Triggers.Modular.Tenancy.Keys;
using Triggers.Modular.Tenancy.Me;
using Triggers.Modular.Tenancy.Tenants;

namespace Triggers.Modular.Tenancy;

public static class TenancyEndpoints
{
    /// <summary>
    /// <c>/api/v1/me</c>, <c>/api/v1/environments</c>, <c>/api/v1/keys</c> (the caller's tenant × environment, from its
    /// credential) and <c>/api/v1/admin/tenants…</c> (operator: admin in <c>Tenancy:OperatorTenant</c>).
    /// </summary>
    public static IEndpointRouteBuilder MapTenancyEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Tenancy");
        GetMeEndpoint.Map(api);
        ListEnvironmentsEndpoint.Map(api);
        CreateEnvironmentEndpoints.Map(api);
        IssueApiKeyEndpoints.Map(api);
        ListApiKeysEndpoint.Map(api);
        GetApiKeyEndpoint.Map(api);
        RevokeApiKeyEndpoint.Map(api);
        CreateTenantEndpoint.Map(api);
        ListTenantsEndpoint.Map(api);
        return app;
    }
}
