using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Triggers.Contracts;

namespace Triggers.Modular.Triggers.ReadModel;

/// <summary>The request log of webhook triggers (<c>GET /api/v1/triggers/{id}/webhook-logs</c>): one row per
/// <see cref="WebhookRequestRecorded"/>. Rows of deleted triggers stay (their history); the endpoint answers 404 for them.</summary>
internal sealed class WebhookLogProjection(EventSerializer serializer) : IProjection
{
    public string Name => "webhook-requests";

    public AllFilter? Filter { get; } = new(Categories: [WebhookEventTypes.Category], EventTypePrefixes: [WebhookEventTypes.Request]);

    public static string Table(StoreDialect dialect) => dialect == StoreDialect.Postgres ? "triggers.webhook_requests" : "triggers_webhook_requests";

    public IReadOnlyList<string> Tables(StoreDialect dialect) => [Table(dialect)];

    public Task ApplyAsync(RecordedEvent e, ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(context);
        if (!serializer.Registry.IsRegistered(e.Type) || serializer.Deserialize(e) is not WebhookRequestRecorded r) return Task.CompletedTask;
        var d = context.Dialect;
        return context.ExecuteAsync($"INSERT INTO {context.Table(Table(d))} (request_id, trigger_id, tenant_id, environment, received_at, method, path, query, headers, " +
            "body, body_encoding, body_bytes, body_truncated, status, reason, detail, duration_ms, client_ip, user_agent, delivery_id, execution_id, duplicate_of) " +
            "VALUES (@RequestId, @TriggerId, @TenantId, @Environment, @at, @Method, @Path, @query, @headers, @Body, @BodyEncoding, @BodyBytes, @BodyTruncated, " +
            "@Status, @Reason, @Detail, @DurationMs, @ClientIp, @UserAgent, @DeliveryId, @ExecutionId, @DuplicateOf) ON CONFLICT (request_id) DO NOTHING",
            new
            {
                r.RequestId, r.TriggerId, r.TenantId, r.Environment, at = SqlTime.Parameter(d, r.At), r.Method, r.Path, query = r.Query.GetRawText(),
                headers = r.Headers.GetRawText(), r.Body, r.BodyEncoding, r.BodyBytes, r.BodyTruncated, r.Status, r.Reason, r.Detail, r.DurationMs,
                r.ClientIp, r.UserAgent, r.DeliveryId, r.ExecutionId, r.DuplicateOf,
            }, cancellationToken);
    }

    public Task ResetAsync(ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.ExecuteAsync($"DELETE FROM {context.Table(Table(context.Dialect))}", null, cancellationToken);
    }
}
