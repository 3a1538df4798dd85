using System.Globalization;
using System.Text.Json;
using Dapper;
using FluentValidation;
using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Triggers.ReadModel;
using Triggers.Modular.Triggers.Schedules;

namespace Triggers.Modular.Triggers.Resources;

/// <summary>One trigger, folded from its stream: consistent with every acknowledged change.</summary>
internal sealed record GetTrigger(string Id) : IQuery<TriggerDto>, ITenantScoped;

/// <summary>The caller's triggers by id (creation order for ids made without an Idempotency-Key), from the read model;
/// filters combine with AND.</summary>
internal sealed record ListTriggers(string? WorkflowId, string? Type, bool? Enabled, int Limit, int Offset) : IQuery<TriggerPage>, ITenantScoped;

internal sealed record TriggerPage(IReadOnlyList<TriggerDto> Items, int Limit, int Offset, long Total);

internal sealed class ListTriggersValidator : AbstractValidator<ListTriggers>
{
    public ListTriggersValidator()
    {
        RuleFor(q => q.Limit).InclusiveBetween(1, 200);
        RuleFor(q => q.Offset).GreaterThanOrEqualTo(0);
        RuleFor(q => q.WorkflowId).MaximumLength(100);
        RuleFor(q => q.Type).Must(t => t is null || TriggerViews.Types.Contains(t, StringComparer.Ordinal))
            .WithMessage($"type must be one of {string.Join(", ", TriggerViews.Types)}.");
    }
}

internal sealed class TriggerQueryHandler(CommandHandler handler, IStoreDatabase database, RequestContext context, Webhooks.WebhookUrls urls,
    TimeProvider clock)
    : IQueryHandler<GetTrigger, TriggerDto>, IQueryHandler<ListTriggers, TriggerPage>
{
    public async ValueTask<TriggerDto> Handle(GetTrigger query, CancellationToken cancellationToken)
    {
        var trigger = await handler.LoadOwnedAsync(context.RequireTenant(), query.Id, cancellationToken).ConfigureAwait(false);
        return trigger.ToDto(urls) with { Schedule = await ScheduleViews.ForAsync(handler, database, trigger, clock, cancellationToken).ConfigureAwait(false) };
    }

    public async ValueTask<TriggerPage> Handle(ListTriggers query, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        var table = TriggersProjection.Table(database.Dialect);
        var where = "tenant_id = @tenant AND environment = @environment"
            + (query.WorkflowId is null ? "" : " AND workflow_id = @workflow")
            + (query.Type is null ? "" : " AND type = @type")
            + (query.Enabled is null ? "" : " AND enabled = @enabled");
        var args = new
        {
            tenant = scope.TenantId, environment = scope.Environment, workflow = query.WorkflowId ?? "", type = query.Type ?? "",
            enabled = query.Enabled ?? false, limit = query.Limit, offset = query.Offset,
        };
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT COUNT(*) FROM {table} WHERE {where}", args, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var rows = await connection.QueryAsync(new CommandDefinition(
            $"SELECT t.trigger_id, t.workflow_id, t.name, t.type, t.enabled, t.config, t.source, t.created_at, t.updated_at, " +
            $"COALESCE(t.cadence_since, t.updated_at) AS cadence_since, s.paused, s.cursor_at, " +
            $"s.last_run_at, s.run_count FROM (SELECT * FROM {table} WHERE {where} ORDER BY trigger_id LIMIT @limit OFFSET @offset) t " +
            $"LEFT JOIN {SchedulesProjection.Table(database.Dialect)} s ON s.trigger_id = t.trigger_id ORDER BY t.trigger_id",
            args, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var now = clock.GetUtcNow();
        var items = rows.Select(r =>
        {
            bool enabled = SqlBool.Read((object)r.enabled);
            JsonElement config = JsonSerializer.Deserialize<JsonElement>((string)r.config);
            DateTimeOffset updatedAt = SqlTime.Read(r.updated_at);
            string type = r.type;
            ScheduleView? schedule = null;
            if (type == "schedule")
            {
                // As of the schedules read model; a schedule that never fired nor paused has no row yet.
                object? paused = r.paused;
                var state = paused is null or DBNull
                    ? ScheduleState.Initial
                    : ScheduleState.Initial with
                    {
                        Paused = SqlBool.Read(paused), Cursor = SqlTime.ReadNullable((object?)r.cursor_at), LastRunAt = SqlTime.ReadNullable((object?)r.last_run_at),
                        RunCount = Convert.ToInt64((object)r.run_count, CultureInfo.InvariantCulture),
                    };
                schedule = ScheduleViews.Of(enabled, ScheduleConfig.From(config), state, SqlTime.Read(r.cadence_since), now);
            }

            return new TriggerDto((string)r.trigger_id, (string)r.workflow_id, (string)r.name, type, enabled, config, (string)r.source,
                SqlTime.Read(r.created_at), updatedAt, urls.For((string)r.trigger_id, type), Schedule: schedule);
        }).ToList();
        return new TriggerPage(items, query.Limit, query.Offset, total);
    }

}
