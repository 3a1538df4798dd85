using Microsoft.AspNetCore.Routing;

namespace Triggers.Modular.Triggers.Api;

/// <summary><c>/api/v1/triggers</c>: to be built.</summary>
internal static class TriggerEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints) => ArgumentNullException.ThrowIfNull(endpoints);
}
