using Microsoft.AspNetCore.Routing;

namespace Triggers.Modular.Executions;

public static class ExecutionsEndpoints
{
    /// <summary>Maps manual runs (<c>POST /api/v1/workflows/definitions/{id}/trigger</c>) and <c>/api/v1/workflows/executions</c>.</summary>
    public static IEndpointRouteBuilder MapExecutionsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        Api.ExecutionEndpoints.Map(endpoints);
        return endpoints;
    }
}
