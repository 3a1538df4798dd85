using Microsoft.AspNetCore.Routing;

namespace Triggers.Modular.Definitions;

public static class DefinitionsEndpoints
{
    /// <summary>Maps the module's HTTP endpoints; none yet.</summary>
    public static IEndpointRouteBuilder MapDefinitionsEndpoints(this IEndpointRouteBuilder endpoints) => endpoints;
}
