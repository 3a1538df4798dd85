using System.Text.Json;
using FluentValidation;
using FluentValidation.Results;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Web;
using Triggers.Modular.Executions.Application;

namespace Triggers.Modular.Executions.Api;

/// <summary>Body of a manual run: <c>{ "trigger_data": { … } }</c>, all optional.</summary>
internal sealed record TriggerRequest(JsonElement? TriggerData);

internal sealed record CancelRequest(string? Reason);

internal static class ExecutionEndpoints
{
    private const string Route = "/api/v1/workflows/executions";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/v1/workflows/definitions/{id}/trigger", async (string id, HttpRequest request, ExecutionsMediator mediator,
                CancellationToken ct) =>
            {
                var body = await ReadOptionalAsync<TriggerRequest>(request, ct);
                var data = body?.TriggerData ?? EmptyObject;
                if (data.ValueKind != JsonValueKind.Object)
                    throw new ValidationException([new ValidationFailure("trigger_data", "trigger_data must be a JSON object.")]);
                var accepted = await mediator.Send(new TriggerDefinition(id, data), ct);
                return TypedResults.Accepted($"{Route}/{accepted.ExecutionId}", accepted);
            })
            .RequireAuthorization(Permissions.WorkflowsExecute).AcceptsIdempotencyKey()
            .Accepts<TriggerRequest>("application/json")
            .WithTags("Workflow executions").WithName("TriggerDefinition")
            .WithSummary("Run a definition now (its latest version) with trigger_data as the trigger input → 202 with the execution id")
            .Produces<ExecutionAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        var group = endpoints.MapGroup(Route).WithTags("Workflow executions");

        group.MapGet("", async ([FromQuery(Name = "workflow_id")] string? workflowId, [FromQuery] string? status,
                [FromQuery(Name = "trigger_type")] string? triggerType, [FromQuery] DateTimeOffset? from, [FromQuery] DateTimeOffset? to,
                [FromQuery] int? limit, [FromQuery] string? cursor, ExecutionsMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new ListExecutions(workflowId, status, triggerType, from, to, limit ?? 50, cursor), ct)))
            .RequireAuthorization(Permissions.WorkflowsRead)
            .WithName("ListExecutions")
            .WithSummary("List executions, newest first; filters: workflow_id, status, trigger_type, from/to (start time); limit (1–200, " +
                "default 50) and cursor (next_cursor of the previous page). A read model: it may lag a change by milliseconds.");

        group.MapGet("/{id}", async (string id, ExecutionsMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetExecution(id), ct)))
            .RequireAuthorization(Permissions.WorkflowsRead)
            .WithName("GetExecution").WithSummary("An execution with its steps: status, outputs, errors and every attempt")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapGet("/{id}/history", async (string id, ExecutionsMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetExecutionHistory(id), ct)))
            .RequireAuthorization(Permissions.WorkflowsRead)
            .WithName("GetExecutionHistory").WithSummary("Every event of the execution, in order: what was decided, when and why")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPost("/{id}/cancel", async (string id, HttpRequest request, ExecutionsMediator mediator, CancellationToken ct) =>
            {
                var body = await ReadOptionalAsync<CancelRequest>(request, ct);
                return TypedResults.Accepted($"{Route}/{id}", await mediator.Send(new CancelExecution(id, body?.Reason), ct));
            })
            .RequireAuthorization(Permissions.WorkflowsExecute)
            .Accepts<CancelRequest>("application/json")
            .WithName("CancelExecution").WithSummary("Cancel a pending or running execution; its running and pending steps stop (body optional: reason)")
            .Produces<ExecutionAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        group.MapPost("/{id}/retry", async (string id, ExecutionsMediator mediator, CancellationToken ct) =>
                TypedResults.Accepted($"{Route}/{id}", await mediator.Send(new RetryExecution(id), ct)))
            .RequireAuthorization(Permissions.WorkflowsExecute)
            .WithName("RetryExecution").WithSummary("Run a failed execution again from its failed step; completed steps keep their outputs")
            .Produces<ExecutionAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    /// <summary>An optional JSON body: none (or empty) → null; otherwise bound with the API's JSON options, bad JSON → 400.</summary>
    private static async Task<T?> ReadOptionalAsync<T>(HttpRequest request, CancellationToken ct) where T : class
    {
        if (request.ContentLength == 0 || (request.ContentLength is null && !request.Headers.TransferEncoding.Any())) return null;
        if (!request.HasJsonContentType())
            throw new BadHttpRequestException("Send the body as JSON.", StatusCodes.Status415UnsupportedMediaType);
        try
        {
            return await request.ReadFromJsonAsync<T>(ct);
        }
        catch (JsonException e)
        {
            throw new BadHttpRequestException("Malformed JSON body.", StatusCodes.Status400BadRequest, e);
        }
    }
}
