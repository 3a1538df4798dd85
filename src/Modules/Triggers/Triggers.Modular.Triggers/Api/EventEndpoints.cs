using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Web;
using Triggers.Modular.Triggers.Events;

namespace Triggers.Modular.Triggers.Api;

/// <summary>Body of a batch: <c>{ "events": [ { "name", "payload" }, … ] }</c>.</summary>
internal sealed record EventBatchRequest(IReadOnlyList<EventInput>? Events);

internal static class EventEndpoints
{
    private const string Route = "/api/v1/events";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Route).WithTags("Events");

        group.MapPost("", async (HttpRequest request, TriggersMediator mediator, CancellationToken ct) =>
            {
                var body = await ReadAsync<EventInput>(request, ct);
                return TypedResults.Accepted((string?)null, await mediator.Send(new AcceptEvent(body.Name, body.Payload), ct));
            })
            .RequireAuthorization(Permissions.EventsWrite).AcceptsIdempotencyKey()
            .Accepts<EventInput>("application/json")
            .WithName("SendEvent")
            .WithSummary("Send an event { name, payload } into the caller's tenant × environment → 202 with its event_id once it is " +
                "stored durably. Every enabled event trigger of that name then starts its workflow.")
            .Produces<EventReceived>(StatusCodes.Status202Accepted);

        group.MapPost("/batch", async (HttpRequest request, TriggersMediator mediator, CancellationToken ct) =>
            {
                var body = await ReadAsync<EventBatchRequest>(request, ct);
                return TypedResults.Accepted((string?)null, await mediator.Send(new AcceptEventBatch(body.Events), ct));
            })
            .RequireAuthorization(Permissions.EventsWrite).AcceptsIdempotencyKey()
            .Accepts<EventBatchRequest>("application/json")
            .WithName("SendEventBatch")
            .WithSummary("Send up to 100 events at once → 202 with one result per event, in order: accepted (with its event_id) " +
                "or rejected (with field errors); the accepted ones are stored whatever happens to the others.")
            .Produces<EventBatchReceived>(StatusCodes.Status202Accepted);

        group.MapPost("/dry-run", async (HttpRequest request, TriggersMediator mediator, CancellationToken ct) =>
            {
                var body = await ReadAsync<EventInput>(request, ct);
                return TypedResults.Ok(await mediator.Send(new DryRunEvent(body.Name, body.Payload), ct));
            })
            .RequireAuthorization(Permissions.EventsWrite)
            .Accepts<EventInput>("application/json")
            .WithName("DryRunEvent")
            .WithSummary("Which triggers an event { name, payload } would fire now, and why each other would not — nothing is stored, " +
                "nothing starts (checked like a send: 400 with field errors). 200 { name, would_fire: [{ trigger_id, workflow_id, " +
                "trigger_name }], would_not_fire: [{ trigger_id, workflow_id, trigger_name, reason, details }], unrouted }; reason is " +
                "definition_missing, definition_disabled, schema_failed (details: the payload's errors with their paths), " +
                "condition_false (details: the failing leaf) — as routing records them — or, dry run only, trigger_disabled or " +
                "name_mismatch (an enabled trigger listening to a name a typo away). unrouted: no enabled trigger listens to the name.")
            .Produces<EventDryRun>(StatusCodes.Status200OK);
    }

    /// <summary>A required JSON body, bound with the API's JSON options: none → 400, not JSON → 415, bad JSON → 400.</summary>
    private static async Task<T> ReadAsync<T>(HttpRequest request, CancellationToken ct) where T : class
    {
        if (!request.HasJsonContentType())
            throw new BadHttpRequestException("Send the body as JSON.", StatusCodes.Status415UnsupportedMediaType);
        try
        {
            return await request.ReadFromJsonAsync<T>(ct) ?? throw new BadHttpRequestException("The body must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw new BadHttpRequestException("Malformed JSON body.", StatusCodes.Status400BadRequest, e);
        }
    }
}
