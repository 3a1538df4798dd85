using System.Globalization;
using System.Text.Json;
using Dapper;
using FluentValidation;
using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Triggers.ReadModel;

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
        return trigger.ToDto(urls) with { Schedule = await ScheduleViews.ForAsync(handler, trigger, clock, cancellationToken).ConfigureAwait(false) };
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
            $"SELECT trigger_id, workflow_id, name, type, enabled, config, source, created_at, updated_at FROM {table} " +
            $"WHERE {where} ORDER BY trigger_id LIMIT @limit OFFSET @offset", args, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var items = rows.Select(r => new TriggerDto((string)r.trigger_id, (string)r.workflow_id, (string)r.name, (string)r.type,
            r.enabled is bool b ? b : Convert.ToInt64(r.enabled, CultureInfo.InvariantCulture) != 0,
            JsonSerializer.Deserialize<JsonElement>((string)r.config), (string)r.source, SqlTime.Read(r.created_at), SqlTime.Read(r.updated_at),
            urls.For((string)r.trigger_id, (string)r.type))).ToList();
        return new TriggerPage(items, query.Limit, query.Offset, total);
    }
}
