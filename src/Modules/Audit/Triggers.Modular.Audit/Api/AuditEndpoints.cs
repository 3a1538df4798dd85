using System.Text;
using System.Text.Json;
using FluentValidation;
using FluentValidation.Results;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Triggers.Modular.Audit.History;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Security;

namespace Triggers.Modular.Audit;

public static class AuditEndpoints
{
    private const string Route = "/api/v1/audit";
    private const string Ndjson = "application/x-ndjson";

    /// <summary>Maps the history API (SPEC §6, permission <c>audit:read</c>).</summary>
    public static IEndpointRouteBuilder MapAuditEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Route).WithTags("Audit");

        group.MapGet("/events", async (HttpContext http, [FromQuery] string? stream, [FromQuery] string? category, [FromQuery] string? type,
                [FromQuery] DateTimeOffset? from, [FromQuery] DateTimeOffset? to, [FromQuery(Name = "correlation_id")] string? correlationId,
                [FromQuery] string? actor, [FromQuery] string? order, [FromQuery] int? limit, [FromQuery] string? cursor, AuditMediator mediator,
                IEventHistory history, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken ct) =>
            {
                var filter = new AuditFilter(stream, category, type, from, to, correlationId, actor, order, limit ?? 100, cursor);
                if (!WantsNdjson(http.Request))
                    return Results.Ok(await mediator.Send(new ListAuditEvents(filter), ct));
                var plan = await mediator.Send(new PlanAuditExport(filter), ct);
                return new NdjsonExport(plan, history, json.Value.SerializerOptions);
            })
            .RequireAuthorization(Permissions.AuditRead)
            .WithName("ListAuditEvents")
            .WithSummary("The tenant × environment's event history, newest first (order=oldest for oldest first), paged by position: pass " +
                "next_cursor as cursor. Filters: stream, category, type (exact, or a prefix ending in *), from (inclusive) / to (exclusive) " +
                "on the recorded time, correlation_id, actor; limit 1–1000 (default 100). With Accept: application/x-ndjson, every " +
                "matching event is streamed, one JSON object per line (limit does not apply).")
            .Produces<AuditEventPage>()
            .Produces(StatusCodes.Status200OK, contentType: Ndjson)
            .ProducesValidationProblem();

        group.MapGet("/streams/{stream}", async (string stream, [FromQuery(Name = "from_revision")] long? fromRevision, [FromQuery] int? limit,
                AuditMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new ReadAuditStream(stream, fromRevision ?? 0, limit ?? 100), ct)))
            .RequireAuthorization(Permissions.AuditRead)
            .WithName("ReadAuditStream")
            .WithSummary("One stream's events in revision order, from from_revision (default 0), limit 1–1000 (default 100); next_revision " +
                "continues. A stream of another tenant or environment is 404, like one that does not exist.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPost("/verify", async ([FromQuery] string? from, [FromQuery] string? to, AuditMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new VerifyAuditChain(from, to), ct)))
            .RequireAuthorization(Permissions.AuditRead)
            .WithName("VerifyAuditChain")
            .WithSummary("Verify the tamper-evidence hash chains of the caller's tenant × environment: each stream's events in order, without " +
                "gaps, each hashing to its stored link from the one before (docs/adr/0016). from / to: positions (from exclusive, to " +
                "inclusive; default everything, and then each stream's recorded end is checked too). Answers { ok, checked, streams, " +
                "unhashed_legacy, last_position, first_problem: { kind (altered, missing, reordered, unhashed), stream, revision, " +
                "position, event_id, detail } }.")
            .Produces<ChainReport>();

        group.MapGet("/trace/{id}", async (string id, AuditMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new TraceAudit(id), ct)))
            .RequireAuthorization(Permissions.AuditRead)
            .WithName("TraceAudit")
            .WithSummary("Everything that followed from one accepted event (evt_…), webhook request (whr_…) or execution (exec_…): its stream, " +
                "then every stream reached through causation within its correlation id — routing decisions (triggers fired or skipped), " +
                "the executions started and their steps, events emitted by steps and what those fired — each stream with its events in " +
                "position order. Another tenant's or environment's id is 404.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        endpoints.MapGet("/api/v1/admin/projections", async (ProjectionHost projections, CancellationToken ct) =>
                TypedResults.Ok(new ProjectionList([.. (await projections.GetStatusAsync(ct)).Select(p => new ProjectionItem(p.Name, p.Kind, p.State,
                    p.Checkpoint.ToString(), p.Head.ToString(), p.Lag, p.LastError, p.Rebuildable, RebuildView.Of(p.Rebuild)))])))
            .RequireAuthorization(Policies.Operator)
            .WithTags("Audit")
            .WithName("ListProjections")
            .WithSummary("Operators (admin of the operator tenant): every projection (read model) and event processor with its stored " +
                "checkpoint, the head of $all, its lag (events after the checkpoint that it receives) and its runner's state in this " +
                "instance (live, catching_up, waiting_for_leadership — another instance leads —, faulted, stopped) with the last error; " +
                "whether it can be rebuilt beside its tables, and its running or last rebuild in this instance.");

        endpoints.MapPost("/api/v1/admin/projections/{name}/rebuild", (string name, RebuildRequest? body, ProjectionHost projections) =>
            {
                var mode = (body?.Mode ?? "switch") switch
                {
                    "switch" => RebuildMode.Switch,
                    "compare" => RebuildMode.Compare,
                    _ => throw new ValidationException([new ValidationFailure("mode",
                        "mode must be 'switch' (replace the live tables) or 'compare' (compare with the live tables, change nothing).")]),
                };
                try
                {
                    var job = projections.StartRebuild(name, mode);
                    return TypedResults.Accepted($"/api/v1/admin/projections/{name}/rebuild", RebuildView.Of(job.Progress));
                }
                catch (KeyNotFoundException)
                {
                    throw new NotFoundException("Projection", name);
                }
                catch (RebuildRefusedException ex)
                {
                    throw new ConflictException(ex.Message, ex.NotRebuildable ? "projection-not-rebuildable" : "rebuild-in-progress");
                }
            })
            .RequireAuthorization(Policies.Operator)
            .WithTags("Audit")
            .WithName("RebuildProjection")
            .WithSummary("Operators: rebuild a projection from position 0 without taking the API down (docs/adr/0016) — into new tables " +
                "beside the live ones while those keep serving; when caught up, under the live tables' lock for the last events, the " +
                "new tables replace them (mode switch, the default) or are compared with them row for row and dropped (mode compare: " +
                "identical is true when every row matches). Answers 202 with the progress; GET the Location for events/s and percent. " +
                "409 for an event processor or a projection being rebuilt on this instance; one being rebuilt by another process or " +
                "instance makes the started rebuild fail at once (state failed, error says so).")
            .Accepts<RebuildRequest>("application/json")
            .Produces<RebuildView>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        endpoints.MapGet("/api/v1/admin/projections/{name}/rebuild", (string name, ProjectionHost projections) =>
                projections.GetRebuild(name) is { } job ? TypedResults.Ok(RebuildView.Of(job.Progress)) : throw new NotFoundException("Rebuild of projection", name))
            .RequireAuthorization(Policies.Operator)
            .WithTags("Audit")
            .WithName("GetProjectionRebuild")
            .WithSummary("Operators: the running or last rebuild of a projection started on this instance — state (building, finishing, " +
                "completed, failed, cancelled), events applied of the total, percent, events per second, position reached, error, and " +
                "for mode compare the comparison per table.")
            .Produces<RebuildView>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        return endpoints;
    }

    private sealed record ProjectionItem(string Name, string Kind, ProjectionState State, string Checkpoint, string Head, long Lag, string? LastError,
        bool Rebuildable, RebuildView? Rebuild);

    /// <summary>Body of a rebuild request: mode <c>switch</c> (default) or <c>compare</c>.</summary>
    internal sealed record RebuildRequest(string? Mode);

    internal sealed record RebuildView(string Projection, RebuildMode Mode, RebuildState State, long Applied, long Total, double Percent,
        double EventsPerSecond, string Position, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string? Error, bool? Identical,
        IReadOnlyList<TableComparison>? Comparison)
    {
        [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(p))]
        public static RebuildView? Of(RebuildProgress? p) => p is null ? null
            : new(p.Projection, p.Mode, p.State, p.Applied, p.Total, p.Percent, p.EventsPerSecond, p.Position.ToString(), p.StartedAt, p.FinishedAt,
                p.Error, p.Identical, p.Comparison);
    }

    private sealed record ProjectionList(IReadOnlyList<ProjectionItem> Items);

    private static bool WantsNdjson(HttpRequest request) =>
        MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted)
        && accepted.Any(a => a.MediaType.Equals(Ndjson, StringComparison.OrdinalIgnoreCase));

    /// <summary>Streams every event of the plan, page by page (1,000 at a time), one line each: memory stays flat whatever the
    /// export's size. A client that goes away cancels the reading.</summary>
    private sealed class NdjsonExport(HistoryQuery plan, IEventHistory history, JsonSerializerOptions options) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            var ct = httpContext.RequestAborted;
            response.ContentType = Ndjson;
            var naming = options.PropertyNamingPolicy ?? JsonNamingPolicy.SnakeCaseLower;
            var query = plan;
            var newline = "\n"u8.ToArray();
            while (true)
            {
                var page = await history.ReadAsync(query, ct);
                if (page.Count == 0) break;
                foreach (var e in page)
                {
                    await using (var writer = new Utf8JsonWriter(response.BodyWriter.AsStream(leaveOpen: true)))
                        WriteEvent(writer, e, naming);
                    await response.BodyWriter.WriteAsync(newline, ct);
                }

                await response.BodyWriter.FlushAsync(ct);
                if (page.Count < query.Limit) break;
                query = query with { After = page[^1].Position };
            }
        }

        private static void WriteEvent(Utf8JsonWriter w, RecordedEvent e, JsonNamingPolicy naming)
        {
            w.WriteStartObject();
            w.WriteString(naming.ConvertName(nameof(AuditEventDto.Position)), e.Position.ToString());
            w.WriteString(naming.ConvertName(nameof(AuditEventDto.EventId)), e.EventId.ToString());
            w.WriteString(naming.ConvertName(nameof(AuditEventDto.Stream)), e.StreamName);
            w.WriteNumber(naming.ConvertName(nameof(AuditEventDto.Revision)), e.Revision);
            w.WriteString(naming.ConvertName(nameof(AuditEventDto.Type)), e.Type);
            w.WriteNumber(naming.ConvertName(nameof(AuditEventDto.SchemaVersion)), e.SchemaVersion);
            w.WriteString(naming.ConvertName(nameof(AuditEventDto.RecordedAt)), e.CreatedAt);
            // Absent when null, as in the API's JSON.
            if (e.Metadata.Actor is { } actor) w.WriteString(naming.ConvertName(nameof(AuditEventDto.Actor)), actor);
            if (e.Metadata.CorrelationId is { } correlation) w.WriteString(naming.ConvertName(nameof(AuditEventDto.CorrelationId)), correlation);
            if (e.Metadata.CausationId is { } causation) w.WriteString(naming.ConvertName(nameof(AuditEventDto.CausationId)), causation);
            w.WritePropertyName(naming.ConvertName(nameof(AuditEventDto.Data)));
            w.WriteRawValue(e.Data, skipInputValidation: true); // stored as written: valid JSON
            w.WriteEndObject();
        }
    }
}
