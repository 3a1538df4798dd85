using Microsoft.AspNetCore.Routing;

namespace Triggers.Modular.Audit;

public static class AuditEndpoints
{
    /// <summary>Maps the module's HTTP endpoints; none yet.</summary>
    public static IEndpointRouteBuilder MapAuditEndpoints(this IEndpointRouteBuilder endpoints) => endpoints;
}
