using System.Text.Json;
using Triggers.Modular.BuildingBlocks.Aggregates;

namespace Triggers.Modular.Triggers.Contracts;

// Integration events of webhook requests: stream webhook-{whr_id}, one per request to /api/webhooks/{trigger_id} of an
// existing trigger, accepted or refused. An accepted request's stream holds its WebhookRequestRecorded and the
// TriggerFired that starts the execution, appended together. Names are stable (see WebhookEventTypes); never rename them.

/// <summary>
/// One request to a webhook trigger, as its request log shows it: <see cref="Headers"/> (lower-case names) and
/// <see cref="Query"/> with secret values redacted, <see cref="Body"/> as text up to the log's limit (base64 when not UTF-8,
/// see <see cref="BodyEncoding"/>), the answer's <see cref="Status"/>, the refusal's <see cref="Reason"/> (a stable code such
/// as <c>bad_signature</c>) and <see cref="Detail"/>, and for an accepted request the <see cref="ExecutionId"/> it started
/// (or, when its delivery id was seen before, <see cref="DuplicateOf"/> names the first request and no execution starts).
/// No secret is ever recorded.
/// </summary>
public sealed record WebhookRequestRecorded(
    string RequestId,
    string TenantId,
    string Environment,
    string TriggerId,
    string WorkflowId,
    string Method,
    string Path,
    JsonElement Query,
    JsonElement Headers,
    string? Body,
    string BodyEncoding,
    long BodyBytes,
    bool BodyTruncated,
    int Status,
    string? Reason,
    string? Detail,
    double DurationMs,
    string? ClientIp,
    string? UserAgent,
    string? DeliveryId,
    string? ExecutionId,
    string? DuplicateOf,
    DateTimeOffset At) : IEvent;

/// <summary>A webhook trigger's secret was replaced (stream <c>trigger-{id}</c>): version <see cref="Version"/> verifies from
/// now on, the earlier ones until <see cref="PreviousExpiresAt"/> (the overlap). The secret itself is never in an event.</summary>
public sealed record WebhookSecretRotated(string TriggerId, string TenantId, string Environment, int Version, DateTimeOffset PreviousExpiresAt,
    DateTimeOffset At) : IEvent;

public static class WebhookEventTypes
{
    public const string Category = "webhook";
    public const string Request = "triggers.webhook_request";
    public const string SecretRotated = "triggers.webhook_secret_rotated";

    public static string StreamFor(string requestId) => $"{Category}-{requestId}";

    public static EventTypeRegistry Register(EventTypeRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry
            .Register<WebhookRequestRecorded>(Request)
            .Register<WebhookSecretRotated>(SecretRotated);
    }
}
