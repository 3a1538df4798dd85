using Microsoft.AspNetCore.Routing;

namespace Triggers.Modular.Triggers;

public static class TriggersEndpoints
{
    /// <summary>Maps the module's HTTP endpoints; none yet.</summary>
    public static IEndpointRouteBuilder MapTriggersEndpoints(this IEndpointRouteBuilder endpoints) => endpoints;
}
