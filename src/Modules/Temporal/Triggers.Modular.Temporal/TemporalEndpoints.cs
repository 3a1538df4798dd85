using Microsoft.AspNetCore.Routing;

namespace Triggers.Modular.Temporal;

public static class TemporalEndpoints
{
    /// <summary>Maps the module's HTTP endpoints; none yet.</summary>
    public static IEndpointRouteBuilder MapTemporalEndpoints(this IEndpointRouteBuilder endpoints) => endpoints;
}
