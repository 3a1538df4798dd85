using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using FluentValidation;
using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Triggers.ReadModel;

namespace Triggers.Modular.Triggers.Resources;

/// <summary>A webhook trigger's request log, newest first: <see cref="Status"/> filters by the answer's status code,
/// <see cref="From"/> (inclusive) and <see cref="To"/> (exclusive) by the time received; <see cref="Cursor"/> continues
/// from a page's <c>next_cursor</c>.</summary>
internal sealed record ListWebhookLogs(string Id, int? Status, DateTimeOffset? From, DateTimeOffset? To, int Limit, string? Cursor)
    : IQuery<WebhookLogPage>, ITenantScoped;

/// <summary>One request as the log keeps it (secrets redacted; body up to the log's limit).</summary>
internal sealed record WebhookLogItem(string RequestId, DateTimeOffset ReceivedAt, string Method, string Path, JsonElement Query, JsonElement Headers,
    string? Body, string BodyEncoding, long BodyBytes, bool BodyTruncated, int Status, string? Reason, string? Detail, double DurationMs,
    string? ClientIp, string? UserAgent, string? DeliveryId, string? ExecutionId, string? DuplicateOf);

/// <summary><see cref="NextCursor"/> is null on the last page.</summary>
internal sealed record WebhookLogPage(IReadOnlyList<WebhookLogItem> Items, string? NextCursor);

internal sealed class ListWebhookLogsValidator : AbstractValidator<ListWebhookLogs>
{
    public ListWebhookLogsValidator()
    {
        RuleFor(q => q.Limit).InclusiveBetween(1, 200);
        RuleFor(q => q.Status).InclusiveBetween(100, 599).When(q => q.Status is not null);
        RuleFor(q => q.To).GreaterThan(q => q.From).When(q => q.From is not null && q.To is not null).WithMessage("to must be after from.");
        RuleFor(q => q.Cursor).Must(c => c is null || WebhookLogCursor.TryParse(c, out _))
            .WithMessage("cursor is not one this endpoint issued: pass a page's next_cursor unchanged.");
    }
}

/// <summary>Where a page ended: the last item's time and id (the log's order).</summary>
internal static class WebhookLogCursor
{
    public static string Create(DateTimeOffset at, string requestId) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{at.UtcTicks.ToString(CultureInfo.InvariantCulture)}|{requestId}")).TrimEnd('=')
            .Replace('+', '-').Replace('/', '_');

    public static bool TryParse(string cursor, out (DateTimeOffset At, string RequestId) position)
    {
        position = default;
        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(padded));
            var bar = text.IndexOf('|', StringComparison.Ordinal);
            if (bar <= 0 || !long.TryParse(text.AsSpan(0, bar), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                || ticks > DateTimeOffset.MaxValue.UtcTicks || bar == text.Length - 1) return false;
            position = (new DateTimeOffset(ticks, TimeSpan.Zero), text[(bar + 1)..]);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

internal sealed class WebhookLogQueryHandler(CommandHandler handler, IStoreDatabase database, RequestContext context)
    : IQueryHandler<ListWebhookLogs, WebhookLogPage>
{
    public async ValueTask<WebhookLogPage> Handle(ListWebhookLogs query, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        var trigger = await handler.LoadOwnedAsync(scope, query.Id, cancellationToken).ConfigureAwait(false);
        if (trigger.Type != "webhook") throw new NotFoundException("Webhook log of trigger", query.Id);

        var d = database.Dialect;
        (DateTimeOffset At, string RequestId)? after = query.Cursor is { } c && WebhookLogCursor.TryParse(c, out var p) ? p : null;
        var sql = new StringBuilder($"SELECT * FROM {WebhookLogProjection.Table(d)} WHERE trigger_id = @id AND tenant_id = @tenant AND environment = @environment");
        if (query.Status is not null) sql.Append(" AND status = @status");
        if (query.From is not null) sql.Append(" AND received_at >= @from");
        if (query.To is not null) sql.Append(" AND received_at < @to");
        if (after is not null) sql.Append(" AND (received_at < @afterAt OR (received_at = @afterAt AND request_id < @afterId))");
        sql.Append(" ORDER BY received_at DESC, request_id DESC LIMIT @take");
        var args = new
        {
            id = trigger.Id, tenant = scope.TenantId, environment = scope.Environment, status = query.Status, from = SqlTime.Parameter(d, query.From),
            to = SqlTime.Parameter(d, query.To), afterAt = SqlTime.Parameter(d, after?.At), afterId = after?.RequestId, take = query.Limit + 1,
        };
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = (await connection.QueryAsync(new CommandDefinition(sql.ToString(), args, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        var items = rows.Take(query.Limit).Select(r => new WebhookLogItem((string)r.request_id, SqlTime.Read(r.received_at), (string)r.method,
            (string)r.path, JsonSerializer.Deserialize<JsonElement>((string)r.query), JsonSerializer.Deserialize<JsonElement>((string)r.headers),
            (string?)r.body, (string)r.body_encoding, Convert.ToInt64(r.body_bytes, CultureInfo.InvariantCulture),
            SqlBool.Read((object)r.body_truncated),
            Convert.ToInt32(r.status, CultureInfo.InvariantCulture), (string?)r.reason, (string?)r.detail,
            Convert.ToDouble(r.duration_ms, CultureInfo.InvariantCulture), (string?)r.client_ip, (string?)r.user_agent, (string?)r.delivery_id,
            (string?)r.execution_id, (string?)r.duplicate_of)).ToList();
        var next = rows.Count > query.Limit ? WebhookLogCursor.Create(items[^1].ReceivedAt, items[^1].RequestId) : null;
        return new WebhookLogPage(items, next);
    }
}
