using System.Globalization;
using FluentValidation;
using FluentValidation.Results;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Web;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.Definitions.Definitions;

namespace Triggers.Modular.Definitions.Api;

internal sealed record DefinitionList(IReadOnlyList<DefinitionSummaryDto> Items, int Limit, int Offset, long Total);

internal sealed record VersionList(IReadOnlyList<DefinitionVersionDto> Items);

internal static class DefinitionEndpoints
{
    private const string Route = "/api/v1/workflows/definitions";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Route).WithTags("Workflow definitions");

        group.MapPost("", async (HttpRequest request, DefinitionsMediator mediator, HttpContext http, CancellationToken ct) =>
            {
                var (document, json) = await DefinitionBody.ReadAsync(request, ct);
                var created = await mediator.Send(new CreateDefinition(document, json), ct);
                SetETag(http, created.Version);
                return TypedResults.Created($"{Route}/{created.Id}", created);
            })
            .RequireAuthorization(Permissions.WorkflowsWrite).AcceptsIdempotencyKey()
            .Accepts<object>("application/json", "application/yaml")
            .WithName("CreateDefinition").WithSummary("Create a workflow definition (JSON or YAML); version 1")
            .Produces<DefinitionDto>(StatusCodes.Status201Created);

        group.MapGet("", async ([FromQuery] bool? enabled, [FromQuery] string? name, [FromQuery] int? limit, [FromQuery] int? offset,
                DefinitionsMediator mediator, CancellationToken ct) =>
            {
                var page = await mediator.Send(new ListDefinitions(enabled, name, limit ?? 50, offset ?? 0), ct);
                return TypedResults.Ok(new DefinitionList(page.Items, page.Limit, page.Offset, page.Total));
            })
            .RequireAuthorization(Permissions.WorkflowsRead)
            .WithName("ListDefinitions")
            .WithSummary("List definitions (latest versions); filters: enabled, name (substring); limit (1–200, default 50) and offset. " +
                "The list is a read model: it may lag a write by milliseconds.");

        group.MapGet("/{id}", async (string id, [FromQuery] int? version, DefinitionsMediator mediator, HttpContext http, CancellationToken ct) =>
            {
                var definition = await mediator.Send(new GetDefinition(id, version), ct);
                SetETag(http, definition.Version);
                return TypedResults.Ok(definition);
            })
            .RequireAuthorization(Permissions.WorkflowsRead)
            .WithName("GetDefinition").WithSummary("Get a definition: the latest version, or ?version=N")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPut("/{id}", async (string id, HttpRequest request, DefinitionsMediator mediator, HttpContext http, CancellationToken ct) =>
            {
                var expected = IfMatch(request);
                var (document, json) = await DefinitionBody.ReadAsync(request, ct);
                var updated = await mediator.Send(new UpdateDefinition(id, expected, document, json), ct);
                SetETag(http, updated.Version);
                return TypedResults.Ok(updated);
            })
            .RequireAuthorization(Permissions.WorkflowsWrite)
            .Accepts<object>("application/json", "application/yaml")
            .WithName("UpdateDefinition").WithSummary("Replace a definition: a new version. If-Match: \"N\" → 412 unless N is the current version")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status412PreconditionFailed);

        group.MapDelete("/{id}", async (string id, [FromQuery] bool? force, DefinitionsMediator mediator, CancellationToken ct) =>
            {
                await mediator.Send(new DeleteDefinition(id, force ?? false), ct);
                return TypedResults.NoContent();
            })
            .RequireAuthorization(Permissions.WorkflowsWrite)
            .WithName("DeleteDefinition")
            .WithSummary("Delete a definition (its history stays in the audit log); 409 while executions of it are pending or running, " +
                "unless ?force=true, which cancels them first")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        foreach (var (verb, enable) in new[] { ("enable", true), ("disable", false) })
        {
            group.MapPost($"/{{id}}/{verb}", async (string id, DefinitionsMediator mediator, HttpContext http, CancellationToken ct) =>
                {
                    var definition = await mediator.Send(new SetDefinitionEnabled(id, enable), ct);
                    SetETag(http, definition.Version);
                    return TypedResults.Ok(definition);
                })
                .RequireAuthorization(Permissions.WorkflowsWrite).AcceptsIdempotencyKey()
                .WithName(enable ? "EnableDefinition" : "DisableDefinition")
                .WithSummary(enable ? "Enable a definition: its triggers fire again" : "Disable a definition: its triggers stop firing")
                .ProducesProblem(StatusCodes.Status404NotFound);
        }

        group.MapGet("/{id}/versions", async (string id, DefinitionsMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(new VersionList(await mediator.Send(new ListDefinitionVersions(id), ct))))
            .RequireAuthorization(Permissions.WorkflowsRead)
            .WithName("ListDefinitionVersions").WithSummary("Every version of a definition, oldest first")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static void SetETag(HttpContext http, int version) => http.Response.Headers.ETag = $"\"{version}\"";

    /// <summary>
    /// <c>If-Match</c> per RFC 9110, strong comparison: <c>"3"</c> or a list <c>"3", "4"</c> → the versions it accepts; weak
    /// (<c>W/"3"</c>) or foreign tags match nothing (→ 412); absent or <c>*</c> → null (no condition).
    /// </summary>
    private static int[]? IfMatch(HttpRequest request)
    {
        var header = request.Headers.IfMatch.ToString().Trim();
        if (header.Length == 0 || header == "*") return null;
        if (!EntityTagHeaderValue.TryParseList(header.Split(','), out var tags))
            throw new ValidationException([new ValidationFailure("If-Match", "Must be entity tags as returned in ETag (e.g. \"3\").")]);
        return tags.Where(t => !t.IsWeak)
            .Select(t => t.Tag.Value is { Length: > 2 } v && int.TryParse(v.AsSpan(1, v.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                && v[1] != '0' ? n : -1)
            .Where(n => n > 0).ToArray();
    }
}
