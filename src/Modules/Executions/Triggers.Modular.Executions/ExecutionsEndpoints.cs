using Microsoft.AspNetCore.Routing;

namespace Triggers.Modular.Executions;

public static class ExecutionsEndpoints
{
    /// <summary>Maps the module's HTTP endpoints; none yet.</summary>
    public static IEndpointRouteBuilder MapExecutionsEndpoints(this IEndpointRouteBuilder endpoints) => endpoints;
}
