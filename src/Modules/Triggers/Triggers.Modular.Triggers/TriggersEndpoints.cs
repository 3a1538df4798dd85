using Microsoft.AspNetCore.Routing;

namespace Triggers.Modular.Triggers;

public static class TriggersEndpoints
{
    /// <summary>Maps the events API (<c>/api/v1/events</c>).</summary>
    public static IEndpointRouteBuilder MapTriggersEndpoints(this IEndpointRouteBuilder endpoints)
    {
        Api.EventEndpoints.Map(endpoints);
        return endpoints;
    }
}
