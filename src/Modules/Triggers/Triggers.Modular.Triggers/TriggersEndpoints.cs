using Microsoft.AspNetCore.Routing;

namespace Triggers.Modular.Triggers;

public static class TriggersEndpoints
{
    /// <summary>Maps the events API (<c>/api/v1/events</c>), trigger resources (<c>/api/v1/triggers</c>) and the public webhook
    /// receiver (<c>/api/webhooks/{trigger_id}</c>).</summary>
    public static IEndpointRouteBuilder MapTriggersEndpoints(this IEndpointRouteBuilder endpoints)
    {
        Api.EventEndpoints.Map(endpoints);
        Api.TriggerEndpoints.Map(endpoints);
        Api.WebhookEndpoints.Map(endpoints);
        return endpoints;
    }
}
