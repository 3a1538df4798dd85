using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Web;
using Triggers.Modular.Triggers.Resources;

namespace Triggers.Modular.Triggers.Api;

internal sealed record TriggerList(IReadOnlyList<TriggerDto> Items, int Limit, int Offset, long Total);

/// <summary><c>/api/v1/triggers</c> (SPEC §4): trigger resources linked to a workflow definition of the caller's tenant × environment.</summary>
internal static class TriggerEndpoints
{
    private const string Route = "/api/v1/triggers";

    private const string DefinitionOwned = "A trigger declared inside a definition (source: definition) answers 409: edit the definition instead.";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Route).WithTags("Triggers");

        group.MapPost("", async (HttpRequest request, ApiOptions api, TriggersMediator mediator, CancellationToken ct) =>
            {
                var body = await TriggerBody.ReadAsync(request, api, ct);
                var created = await mediator.Send(new CreateTrigger(body.WorkflowId, body.Name, body.Type, body.Enabled, body.Config), ct);
                return TypedResults.Created($"{Route}/{created.Id}", created);
            })
            .RequireAuthorization(Permissions.WorkflowsWrite).AcceptsIdempotencyKey()
            .Accepts<TriggerInput>("application/json")
            .WithName("CreateTrigger")
            .WithSummary("Create a trigger { workflow_id, name, type (event, webhook, schedule, manual, api), enabled (default true), config } " +
                "for a workflow definition of the caller's tenant × environment; config is checked by the type's rules (400 on config.<field>), " +
                "an unknown workflow_id is a 400 on workflow_id")
            .Produces<TriggerDto>(StatusCodes.Status201Created);

        group.MapGet("", async ([FromQuery(Name = "workflow_id")] string? workflowId, [FromQuery] string? type, [FromQuery] bool? enabled,
                [FromQuery] int? limit, [FromQuery] int? offset, TriggersMediator mediator, CancellationToken ct) =>
            {
                var page = await mediator.Send(new ListTriggers(workflowId, type, enabled, limit ?? 50, offset ?? 0), ct);
                return TypedResults.Ok(new TriggerList(page.Items, page.Limit, page.Offset, page.Total));
            })
            .RequireAuthorization(Permissions.WorkflowsRead)
            .WithName("ListTriggers")
            .WithSummary("List triggers, by id (creation order); filters: workflow_id, type, enabled; limit (1–200, default 50) and offset. " +
                "The list is a read model: it may lag a write by milliseconds. Schedule triggers carry schedule { state (active, paused, " +
                "disabled), next_run_at, last_run_at, run_count }.");

        group.MapGet("/{id}", async (string id, TriggersMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetTrigger(id), ct)))
            .RequireAuthorization(Permissions.WorkflowsRead)
            .WithName("GetTrigger").WithSummary("Get a trigger, consistent with every acknowledged change; a schedule trigger with schedule " +
                "{ state, next_run_at, last_run_at, run_count }")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPut("/{id}", async (string id, HttpRequest request, ApiOptions api, TriggersMediator mediator, CancellationToken ct) =>
            {
                var body = await TriggerBody.ReadAsync(request, api, ct);
                return TypedResults.Ok(await mediator.Send(new UpdateTrigger(id, body.WorkflowId, body.Name, body.Type, body.Enabled, body.Config), ct));
            })
            .RequireAuthorization(Permissions.WorkflowsWrite)
            .Accepts<TriggerInput>("application/json")
            .WithName("UpdateTrigger")
            .WithSummary("Replace a trigger's workflow_id, name and config (enabled optional: absent keeps it). The type cannot change " +
                "(400 on type). " + DefinitionOwned)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        group.MapDelete("/{id}", async (string id, TriggersMediator mediator, CancellationToken ct) =>
            {
                await mediator.Send(new DeleteTrigger(id), ct);
                return TypedResults.NoContent();
            })
            .RequireAuthorization(Permissions.WorkflowsWrite)
            .WithName("DeleteTrigger").WithSummary("Delete a trigger (its history stays in the audit log). " + DefinitionOwned)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        foreach (var (verb, pause) in new[] { ("pause", true), ("resume", false) })
        {
            group.MapPost($"/{{id}}/{verb}", async (string id, TriggersMediator mediator, CancellationToken ct) =>
                    TypedResults.Ok(await mediator.Send(new SetSchedulePaused(id, pause), ct)))
                .RequireAuthorization(Permissions.WorkflowsWrite).AcceptsIdempotencyKey()
                .WithName(pause ? "PauseSchedule" : "ResumeSchedule")
                .WithSummary(pause
                    ? "Pause a schedule trigger: its slots pass unfired (and are not caught up on resume). 409 for other trigger types."
                    : "Resume a paused schedule trigger: it fires again from its next slot. 409 for other trigger types.")
                .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        }

        group.MapPost("/{id}/run", async (string id, TriggersMediator mediator, CancellationToken ct) =>
                TypedResults.Accepted((string?)null, await mediator.Send(new RunScheduleNow(id), ct)))
            .RequireAuthorization(Permissions.WorkflowsExecute).AcceptsIdempotencyKey()
            .WithName("RunScheduleNow")
            .WithSummary("Run a schedule trigger now, outside its cadence → 202 { trigger_id, execution_id }; the execution starts a moment " +
                "later, recorded in the schedule's history (kind run_now). 409 for a disabled trigger or another trigger type.")
            .Produces<ScheduleRunStarted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        foreach (var (verb, enable) in new[] { ("enable", true), ("disable", false) })
        {
            group.MapPost($"/{{id}}/{verb}", async (string id, TriggersMediator mediator, CancellationToken ct) =>
                    TypedResults.Ok(await mediator.Send(new SetTriggerEnabled(id, enable), ct)))
                .RequireAuthorization(Permissions.WorkflowsWrite).AcceptsIdempotencyKey()
                .WithName(enable ? "EnableTrigger" : "DisableTrigger")
                .WithSummary(enable ? "Enable a trigger: it fires again (also one declared in a definition)"
                    : "Disable a trigger: it stops firing (also one declared in a definition)")
                .ProducesProblem(StatusCodes.Status404NotFound);
        }
    }
}
