using Microsoft.AspNetCore.Routing;

namespace Triggers.Modular.Triggers;

public static class TriggersEndpoints
{
    /// <summary>Maps the events API (<c>/api/v1/events</c>) and trigger resources (<c>/api/v1/triggers</c>).</summary>
    public static IEndpointRouteBuilder MapTriggersEndpoints(this IEndpointRouteBuilder endpoints)
    {
        Api.EventEndpoints.Map(endpoints);
        Api.TriggerEndpoints.Map(endpoints);
        return endpoints;
    }
}
