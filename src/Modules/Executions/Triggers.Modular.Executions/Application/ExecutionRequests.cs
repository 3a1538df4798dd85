using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using FluentValidation;
using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.Domain;
using Triggers.Modular.Executions.ReadModel;
using Triggers.Modular.Executions.Runtime;

namespace Triggers.Modular.Executions.Application;

/// <summary>A manual run of a definition (its latest version) with <see cref="TriggerData"/> as the <c>trigger</c> input.</summary>
internal sealed record TriggerDefinition(string WorkflowId, JsonElement TriggerData) : ICommand<ExecutionAccepted>, ITenantScoped, IIdempotentCommand;

internal sealed record CancelExecution(string Id, string? Reason) : ICommand<ExecutionAccepted>, ITenantScoped;

internal sealed record RetryExecution(string Id) : ICommand<ExecutionAccepted>, ITenantScoped;

internal sealed record GetExecution(string Id) : IQuery<ExecutionDto>, ITenantScoped;

internal sealed record GetExecutionHistory(string Id) : IQuery<ExecutionHistory>, ITenantScoped;

internal sealed record ListExecutions(string? WorkflowId, string? Status, string? TriggerType, DateTimeOffset? From, DateTimeOffset? To, int Limit,
    string? Cursor) : IQuery<ExecutionList>, ITenantScoped;

internal sealed class CancelExecutionValidator : AbstractValidator<CancelExecution>
{
    public CancelExecutionValidator() => RuleFor(c => c.Reason).MaximumLength(500);
}

internal sealed class ListExecutionsValidator : AbstractValidator<ListExecutions>
{
    public static readonly string[] Statuses = ["pending", "running", "completed", "failed", "cancelled"];

    public ListExecutionsValidator()
    {
        RuleFor(q => q.Limit).InclusiveBetween(1, 200);
        RuleFor(q => q.Status).Must(s => s is null || Statuses.Contains(s, StringComparer.Ordinal))
            .WithMessage($"status must be one of {string.Join(", ", Statuses)}.");
        RuleFor(q => q.TriggerType).Must(s => s is null || ExecutionStarter.TriggerTypes.Contains(s, StringComparer.Ordinal))
            .WithMessage($"trigger_type must be one of {string.Join(", ", ExecutionStarter.TriggerTypes)}.");
        RuleFor(q => q.WorkflowId).Must(id => id is null || PrefixedId.IsValid("wf", id)).WithMessage("workflow_id must be a workflow id (wf_…).");
        RuleFor(q => q.Cursor).Must(c => c is null || ExecutionCursor.TryParse(c, out _)).WithMessage("cursor is not one this API returned.");
        RuleFor(q => q.To).Must((q, to) => q.From is null || to is null || q.From <= to).WithMessage("to must not be before from.");
    }
}

/// <summary>Opaque paging cursor: the (created_ms, execution_id) of the last item returned.</summary>
internal static class ExecutionCursor
{
    public static string Create(long createdMs, string id) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{createdMs.ToString(CultureInfo.InvariantCulture)}|{id}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryParse(string cursor, out (long CreatedMs, string Id) value)
    {
        value = default;
        try
        {
            var b64 = cursor.Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '=');
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(b64)).Split('|');
            if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
                || !PrefixedId.IsValid("exec", parts[1])) return false;
            value = (ms, parts[1]);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

internal sealed class ExecutionCommandHandler(ExecutionStarter starter, ExecutionStore store, EmbeddedRuntime runtime, RequestContext context,
    TimeProvider clock)
    : ICommandHandler<TriggerDefinition, ExecutionAccepted>, ICommandHandler<CancelExecution, ExecutionAccepted>,
        ICommandHandler<RetryExecution, ExecutionAccepted>
{
    public async ValueTask<ExecutionAccepted> Handle(TriggerDefinition command, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        if (!PrefixedId.IsValid("wf", command.WorkflowId)) throw new NotFoundException("Workflow definition", command.WorkflowId);
        // With an Idempotency-Key the execution id follows from it: a retry after a lost reply finds the same execution.
        var id = context.IdempotencyKey is { } key
            ? PrefixedId.From("exec", DeterministicId.Create($"{scope.TenantId}/{scope.Environment}/{key}/TriggerDefinition/{command.WorkflowId}"))
            : PrefixedId.New("exec", clock);
        var result = await starter.StartAsync(new StartExecution(id, scope.TenantId, scope.Environment, command.WorkflowId, null, "manual",
            context.Actor, command.TriggerData, null, RequireEnabled: true, context.CorrelationId, context.CausationId, context.Actor), cancellationToken);
        return new ExecutionAccepted(result.ExecutionId, "pending");
    }

    public async ValueTask<ExecutionAccepted> Handle(CancelExecution command, CancellationToken cancellationToken)
    {
        var loaded = await Owned(command.Id, cancellationToken);
        var result = await runtime.DecideAsync(command.Id, () => new ExecutionCommand.Cancel(command.Reason, clock.GetUtcNow()),
            context.ToMetadata(), loaded, cancellationToken);
        return new ExecutionAccepted(loaded.State.Id, StepStatusNames.Of(result?.State.Status ?? loaded.State.Status));
    }

    public async ValueTask<ExecutionAccepted> Handle(RetryExecution command, CancellationToken cancellationToken)
    {
        var loaded = await Owned(command.Id, cancellationToken);
        var result = await runtime.DecideAsync(command.Id, () => new ExecutionCommand.Retry(clock.GetUtcNow()), context.ToMetadata(),
            loaded, cancellationToken);
        return new ExecutionAccepted(loaded.State.Id, StepStatusNames.Of(result?.State.Status ?? loaded.State.Status));
    }

    private async Task<LoadedExecution> Owned(string id, CancellationToken cancellationToken) =>
        await store.LoadOwnedAsync(context.RequireTenant(), id, cancellationToken);
}

internal sealed class ExecutionQueryHandler(ExecutionStore store, IEventStore events, IStoreDatabase database, RequestContext context)
    : IQueryHandler<GetExecution, ExecutionDto>, IQueryHandler<GetExecutionHistory, ExecutionHistory>, IQueryHandler<ListExecutions, ExecutionList>
{
    public async ValueTask<ExecutionDto> Handle(GetExecution query, CancellationToken cancellationToken)
    {
        var loaded = await store.LoadOwnedAsync(context.RequireTenant(), query.Id, cancellationToken);
        return loaded.State.ToDto(loaded.Decider.Plan);
    }

    public async ValueTask<ExecutionHistory> Handle(GetExecutionHistory query, CancellationToken cancellationToken)
    {
        await store.LoadOwnedAsync(context.RequireTenant(), query.Id, cancellationToken);
        var items = new List<HistoryEventDto>();
        var from = 0L;
        while (true)
        {
            var page = await events.ReadStreamAsync(ExecutionEventTypes.StreamFor(query.Id), ReadDirection.Forward, from, 500, cancellationToken);
            foreach (var e in page)
            {
                using var data = JsonDocument.Parse(e.Data);
                items.Add(new HistoryEventDto(e.Revision, e.Position.ToString(), e.Type, e.CreatedAt, data.RootElement.Clone(),
                    new HistoryMetadataDto(e.Metadata.Actor, e.Metadata.CorrelationId, e.Metadata.CausationId)));
                from = e.Revision + 1;
            }

            if (page.Count < 500) break;
        }

        return new ExecutionHistory(query.Id, items);
    }

#pragma warning disable CA1812, IDE1006 // materialised by Dapper; names match the columns
    private sealed class Row
    {
        public string execution_id { get; set; } = "";
        public string workflow_id { get; set; } = "";
        public int workflow_version { get; set; }
        public string status { get; set; } = "";
        public string trigger_type { get; set; } = "";
        public string? trigger_ref { get; set; }
        public long created_ms { get; set; }
        public object created_at { get; set; } = "";
        public object updated_at { get; set; } = "";
        public object? finished_at { get; set; }
        public string? error_code { get; set; }
        public string? error_message { get; set; }
    }
#pragma warning restore CA1812, IDE1006

    public async ValueTask<ExecutionList> Handle(ListExecutions query, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        var sql = new StringBuilder($"SELECT execution_id, workflow_id, workflow_version, status, trigger_type, trigger_ref, created_ms, created_at, " +
            $"updated_at, finished_at, error_code, error_message FROM {ExecutionsProjection.Table(database.Dialect)} WHERE tenant_id = @tenant AND environment = @env");
        var args = new DynamicParameters(new { tenant = scope.TenantId, env = scope.Environment, limit = query.Limit + 1 });
        if (query.WorkflowId is { } wf) { sql.Append(" AND workflow_id = @wf"); args.Add("wf", wf); }
        if (query.Status is { } status) { sql.Append(" AND status = @status"); args.Add("status", status); }
        if (query.TriggerType is { } type) { sql.Append(" AND trigger_type = @type"); args.Add("type", type); }
        if (query.From is { } from) { sql.Append(" AND created_ms >= @from"); args.Add("from", from.ToUnixTimeMilliseconds()); }
        if (query.To is { } to) { sql.Append(" AND created_ms <= @to"); args.Add("to", to.ToUnixTimeMilliseconds()); }
        if (query.Cursor is { } c && ExecutionCursor.TryParse(c, out var cursor))
        {
            sql.Append(" AND (created_ms < @cms OR (created_ms = @cms AND execution_id < @cid))");
            args.Add("cms", cursor.CreatedMs);
            args.Add("cid", cursor.Id);
        }

        sql.Append(" ORDER BY created_ms DESC, execution_id DESC LIMIT @limit");
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition(sql.ToString(), args, cancellationToken: cancellationToken))).ToList();
        var page = rows.Take(query.Limit).ToList();
        var next = rows.Count > query.Limit ? ExecutionCursor.Create(page[^1].created_ms, page[^1].execution_id) : null;
        return new ExecutionList(page.Select(r => new ExecutionSummaryDto(r.execution_id, r.workflow_id, r.workflow_version, r.status, r.trigger_type,
            r.trigger_ref, SqlTime.Read(r.created_at), SqlTime.Read(r.updated_at), SqlTime.ReadNullable(r.finished_at),
            r.error_code is { } code ? new ErrorDto(code, r.error_message ?? "") : null)).ToList(), next, query.Limit);
    }
}

internal static class ExecutionStoreExtensions
{
    /// <summary>The caller's execution; another tenant's or environment's, or none → 404.</summary>
    public static async Task<LoadedExecution> LoadOwnedAsync(this ExecutionStore store, TenantScope scope, string id, CancellationToken cancellationToken)
    {
        if (!PrefixedId.IsValid("exec", id)) throw new NotFoundException("Execution", id);
        var loaded = await store.LoadAsync(id, cancellationToken);
        return loaded is not null && loaded.State.BelongsTo(scope.TenantId, scope.Environment) ? loaded : throw new NotFoundException("Execution", id);
    }
}
