using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Web;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.Triggers.Contracts;
using Triggers.Modular.Triggers.Domain;

namespace Triggers.Modular.Triggers.Webhooks;

/// <summary>
/// <c>ANY /api/webhooks/{trigger_id}</c> (SPEC §4, issue 7, ADR 0014). Checks in this order, each with its status: unknown,
/// deleted or non-webhook trigger 404; disabled trigger 409; method not allowed 405 (with <c>Allow</c>); origin not allowed
/// 403; body over the limit 413; authentication 401; rate limit 429 (with <c>Retry-After</c>); then the workflow (missing or
/// disabled 409) and the body (malformed JSON 400). An accepted request appends its log record and the
/// <see cref="TriggerFired"/> that starts the execution to its own stream in one append before the 202, so a crash after
/// the 202 loses nothing; a delivery id seen before answers the first request's execution id and starts nothing.
/// Every request to an existing trigger, accepted or refused, is recorded (<see cref="WebhookRequestRecorded"/>).
/// </summary>
internal sealed partial class WebhookReceiver(CommandHandler handler, WebhookSecrets secrets, WebhookTriggerCache cache, WebhookRateLimits limits, WebhookOptions options,
    IDefinitionsModule definitions, IEventStore store, EventSerializer serializer, ApiOptions api, TimeProvider clock, ILogger<WebhookReceiver> logger)
{
    public const string Started = "Workflow execution started";
    public const string Duplicate = "Already received: the execution started by the first delivery; nothing new was started";

    public async Task HandleAsync(HttpContext http, string triggerId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var call = new Call(http, Stopwatch.GetTimestamp(), clock.GetUtcNow());
        var ct = http.RequestAborted;
        if (!PrefixedId.IsValid("trg", triggerId))
        {
            await NotFoundAsync(http, triggerId).ConfigureAwait(false);
            return;
        }

        var target = cache.Get(triggerId);
        var cached = target is not null;
        target ??= await LoadAsync(triggerId, ct).ConfigureAwait(false);
        if (target is null)
        {
            await NotFoundAsync(http, triggerId).ConfigureAwait(false);
            return;
        }

        var trigger = target.Trigger;
        var config = WebhookConfig.From(trigger.Config);
        var request = http.Request;
        var origin = request.Headers.Origin.ToString();
        if (!trigger.Enabled)
        {
            await RefuseAsync(call, trigger, config, 409, "trigger_disabled", "trigger-disabled", "This webhook's trigger is disabled; enable it to receive requests.").ConfigureAwait(false);
            return;
        }

        if (HttpMethods.IsOptions(request.Method) && origin.Length > 0 && request.Headers.AccessControlRequestMethod.Count > 0)
        {
            await PreflightAsync(call, trigger, config, origin).ConfigureAwait(false);
            return;
        }

        if (!config.Allows(request.Method))
        {
            http.Response.Headers.Allow = config.Method;
            await RefuseAsync(call, trigger, config, 405, "method_not_allowed", "method-not-allowed",
                $"This webhook accepts {config.Method} requests, not {Clip(request.Method, 20)}.").ConfigureAwait(false);
            return;
        }

        if (!config.AllowsOrigin(origin))
        {
            await RefuseAsync(call, trigger, config, 403, "origin_not_allowed", "origin-not-allowed", origin.Length == 0
                ? "This webhook only accepts requests from its allowed origins, and the request has no Origin header."
                : $"Origin '{Clip(origin, 200)}' is not one of this webhook's allowed origins.").ConfigureAwait(false);
            return;
        }

        if (origin.Length > 0) AllowOrigin(http, origin);
        if (await ReadBodyAsync(http, ct).ConfigureAwait(false) is not { } body)
        {
            await RefuseAsync(call, trigger, config, 413, "body_too_large", "body-too-large",
                $"The body is larger than this webhook's limit of {options.MaxBodyBytes} bytes.").ConfigureAwait(false);
            return;
        }

        call.Body = body;
        var verifyStarted = Stopwatch.GetTimestamp();
        var auth = Authenticate(request, trigger.Id, config, body, target.LiveAt(clock.GetUtcNow()));
        if (!auth.Ok && cached && config.UsesSecret && cache.MayRereadSecrets(target))
        {
            // The secrets may have been rotated through another instance since they were cached: check once more, fresh
            // (at most every 100 ms per trigger; the entry's lifetime is not extended, so the trigger itself is re-read on time).
            var generation = cache.Generation;
            target = cache.WithSecrets(target, await secrets.UnexpiredAsync(trigger.Id, ct).ConfigureAwait(false));
            cache.Set(trigger.Id, target, generation);
            auth = Authenticate(request, trigger.Id, config, body, target.LiveAt(clock.GetUtcNow()));
        }

        TriggerMetrics.WebhookVerification.Record(Stopwatch.GetElapsedTime(verifyStarted).TotalSeconds,
            new KeyValuePair<string, object?>("auth_type", config.AuthType));
        if (!auth.Ok)
        {
            if (config.AuthType == "bearer") http.Response.Headers.WWWAuthenticate = "Bearer";
            await RefuseAsync(call, trigger, config, 401, auth.Reason!, "unauthenticated", auth.Detail!).ConfigureAwait(false);
            return;
        }

        if (limits.TryAcquire(trigger.Id, config.RateLimitPerMinute) is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await RefuseAsync(call, trigger, config, 429, "rate_limited", "rate-limited",
                $"This webhook received more than {config.RateLimitPerMinute ?? options.DefaultRateLimitPerMinute} requests in the last minute. Retry after {seconds} s.").ConfigureAwait(false);
            return;
        }

        var definition = await definitions.GetStatusAsync(trigger.TenantId, trigger.Environment, trigger.WorkflowId, ct).ConfigureAwait(false);
        if (definition is null || !definition.Enabled)
        {
            await RefuseAsync(call, trigger, config, 409, definition is null ? "definition_missing" : "definition_disabled",
                definition is null ? "definition-missing" : "definition-disabled", definition is null
                    ? $"The workflow '{trigger.WorkflowId}' this webhook starts no longer exists."
                    : $"The workflow '{trigger.WorkflowId}' this webhook starts is disabled; enable it to run it.").ConfigureAwait(false);
            return;
        }

        if (!TryReadInput(request, body, out var payload, out var invalid))
        {
            await RefuseAsync(call, trigger, config, 400, "invalid_body", "malformed-json", invalid!).ConfigureAwait(false);
            return;
        }

        await AcceptAsync(call, trigger, config, payload, ct).ConfigureAwait(false);
    }

    private async Task AcceptAsync(Call call, TriggerState trigger, WebhookConfig config, JsonElement payload, CancellationToken ct)
    {
        var http = call.Http;
        var request = http.Request;
        var deliveryId = DeliveryId(request, config);
        var requestId = deliveryId is null
            ? PrefixedId.New("whr", clock)
            : PrefixedId.From("whr", DeterministicId.Create($"{trigger.Id}/{deliveryId}/delivery"));
        var executionId = PrefixedId.From("exec", DeterministicId.Create($"{requestId}/execution"));
        var now = clock.GetUtcNow();
        var context = JsonSerializer.SerializeToElement(new Dictionary<string, object?>
        {
            ["id"] = requestId,
            ["name"] = "webhook",
            ["received_at"] = call.ReceivedAt,
            ["trigger_id"] = trigger.Id,
            ["method"] = request.Method,
            ["path"] = request.Path.Value,
            ["query"] = WebhookRequestCapture.Query(request.Query, config.ApiKeyHeader, redact: false),
            ["headers"] = WebhookRequestCapture.InputHeaders(request.Headers, config.ApiKeyHeader),
            ["delivery_id"] = deliveryId is null ? null : Clip(deliveryId, 256),
        });
        var record = Record(call, trigger, config, 202, null, null, requestId, executionId, null, deliveryId);
        var fired = new TriggerFired(requestId, trigger.TenantId, trigger.Environment, "webhook", trigger.Id, trigger.WorkflowId, executionId, payload,
            call.ReceivedAt, now, "webhook", context);
        var metadata = Metadata(trigger, requestId);
        try
        {
            // Event ids of their own (not derived from the request id): a second delivery must conflict on the stream, not be
            // taken by the store for a replay of the first append.
            await store.AppendToStreamAsync(WebhookEventTypes.StreamFor(requestId), ExpectedRevision.NoStream,
                [serializer.Serialize(record, Guid.CreateVersion7(), metadata), serializer.Serialize(fired, Guid.CreateVersion7(), metadata)], ct)
                .ConfigureAwait(false);
        }
        catch (WrongExpectedRevisionException) when (deliveryId is not null)
        {
            await DuplicateAsync(call, trigger, config, requestId, deliveryId, ct).ConfigureAwait(false);
            return;
        }
        catch (InvalidAppendException)
        {
            await RefuseAsync(call, trigger, config, 413, "body_too_large", "body-too-large",
                "The body is too large to record with its execution; send a smaller one.").ConfigureAwait(false);
            return;
        }

        TriggerMetrics.WebhookRequests.Add(1, new KeyValuePair<string, object?>("outcome", "accepted"));
        await AnswerAsync(http, config, requestId, executionId, Started).ConfigureAwait(false);
    }

    /// <summary>The delivery id was accepted before: the first request's execution, nothing new started; this request is
    /// recorded too, pointing at the first.</summary>
    private async Task DuplicateAsync(Call call, TriggerState trigger, WebhookConfig config, string firstId, string deliveryId, CancellationToken ct)
    {
        var first = await store.ReadStreamAsync(WebhookEventTypes.StreamFor(firstId), ReadDirection.Forward, 0, 1, ct).ConfigureAwait(false);
        var executionId = first.Count == 1 && serializer.Deserialize(first[0]) is WebhookRequestRecorded r ? r.ExecutionId : null;
        var requestId = PrefixedId.New("whr", clock);
        await RecordAsync(Record(call, trigger, config, 202, "duplicate_delivery", $"Delivery '{Clip(deliveryId, 200)}' was received before as {firstId}.",
            requestId, executionId, firstId, deliveryId), trigger).ConfigureAwait(false);
        TriggerMetrics.WebhookRequests.Add(1, new KeyValuePair<string, object?>("outcome", "duplicate"));
        await AnswerAsync(call.Http, config, requestId, executionId, Duplicate).ConfigureAwait(false);
    }

    private static async Task AnswerAsync(HttpContext http, WebhookConfig config, string requestId, string? executionId, string message)
    {
        http.Response.StatusCode = StatusCodes.Status202Accepted;
        if (config.ResponseFormat == "text")
        {
            http.Response.ContentType = "text/plain; charset=utf-8";
            await http.Response.WriteAsync($"{message}: {executionId}", http.RequestAborted).ConfigureAwait(false);
            return;
        }

        await http.Response.WriteAsJsonAsync(new WebhookAccepted(true, executionId, message, requestId), http.RequestAborted).ConfigureAwait(false);
    }

    private async Task PreflightAsync(Call call, TriggerState trigger, WebhookConfig config, string origin)
    {
        var http = call.Http;
        var method = http.Request.Headers.AccessControlRequestMethod.ToString();
        if (config.AllowedOrigins.Count == 0 || !config.AllowsOrigin(origin) || !config.Allows(method))
        {
            await RefuseAsync(call, trigger, config, 403, "origin_not_allowed", "origin-not-allowed",
                $"Cross-origin {Clip(method, 20)} requests from '{Clip(origin, 200)}' are not allowed by this webhook.").ConfigureAwait(false);
            return;
        }

        AllowOrigin(http, origin);
        http.Response.Headers.AccessControlAllowMethods = config.Method == "ANY" ? method : config.Method;
        http.Response.Headers.AccessControlAllowHeaders = http.Request.Headers.AccessControlRequestHeaders;
        http.Response.Headers.AccessControlMaxAge = "600";
        http.Response.StatusCode = StatusCodes.Status204NoContent;
        await RecordAsync(Record(call, trigger, config, 204, "preflight", null, PrefixedId.New("whr", clock), null, null, null), trigger).ConfigureAwait(false);
    }

    private static void AllowOrigin(HttpContext http, string origin)
    {
        http.Response.Headers.AccessControlAllowOrigin = origin;
        http.Response.Headers.Vary = "Origin";
    }

    /// <summary>The trigger and its secrets, read from the store (and cached); null when no webhook trigger has this id.</summary>
    private async Task<WebhookTarget?> LoadAsync(string triggerId, CancellationToken ct)
    {
        var generation = cache.Generation;
        var (trigger, _) = await handler.LoadAsync(TriggerDecider.Instance, TriggerEventTypes.StreamFor(triggerId), ct).ConfigureAwait(false);
        if (!trigger.Exists || trigger.Deleted || trigger.Type != "webhook") return null;
        var target = cache.Create(trigger, WebhookConfig.From(trigger.Config).UsesSecret
            ? await secrets.UnexpiredAsync(triggerId, ct).ConfigureAwait(false)
            : []);
        cache.Set(triggerId, target, generation);
        return target;
    }

    private AuthOutcome Authenticate(HttpRequest request, string triggerId, WebhookConfig config, byte[] body, IReadOnlyList<string> live)
    {
        if (!config.UsesSecret) return AuthOutcome.Success;
        if (live.Count == 0)
            return AuthOutcome.Fail("no_secret", "This webhook has no secret yet (a trigger declared in a definition starts without one): " +
                $"POST /api/v1/triggers/{triggerId}/rotate-secret issues it.");
        if (config is { AuthType: "hmac", HmacScheme: "standard" } && !live.Any(s => WebhookSignatures.StandardKey(s) is not null))
            return AuthOutcome.Fail("no_secret", "This webhook's secret is not a Standard Webhooks key (whsec_…), so no signature can match: " +
                $"POST /api/v1/triggers/{triggerId}/rotate-secret issues one.");
        var headers = request.Headers;
        switch (config.AuthType)
        {
            case "api_key":
                var key = headers[config.ApiKeyHeader].ToString();
                if (key.Length == 0) return AuthOutcome.Fail("missing_api_key", $"The {config.ApiKeyHeader} header is required.");
                return WebhookSignatures.MatchesToken(key, live) ? AuthOutcome.Success : AuthOutcome.Fail("bad_api_key", $"The {config.ApiKeyHeader} header does not hold this webhook's key.");
            case "bearer":
                var authorization = headers.Authorization.ToString();
                if (authorization.Length == 0) return AuthOutcome.Fail("missing_token", "Authorization: Bearer <token> is required.");
                if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
                    return AuthOutcome.Fail("malformed_token", "The Authorization header must be Bearer <token>.");
                return WebhookSignatures.MatchesToken(authorization[7..].Trim(), live)
                    ? AuthOutcome.Success
                    : AuthOutcome.Fail("bad_token", "The bearer token is not this webhook's.");
            default:
                return config.HmacScheme switch
                {
                    "standard" => WebhookSignatures.VerifyStandard(body, headers[WebhookSignatures.StandardId].ToString(),
                        headers[WebhookSignatures.StandardTimestamp].ToString(), headers[WebhookSignatures.StandardSignature].ToString(), live,
                        clock.GetUtcNow(), TimeSpan.FromSeconds(options.TimestampToleranceSeconds)),
                    "github" => WebhookSignatures.VerifyHex(body, WebhookSignatures.GitHubSignature, headers[WebhookSignatures.GitHubSignature].ToString(), live),
                    _ => WebhookSignatures.VerifyHex(body, WebhookSignatures.PlainSignature, headers[WebhookSignatures.PlainSignature].ToString(), live),
                };
        }
    }

    /// <summary>The body, or null when it is larger than the limit (declared or read).</summary>
    private async Task<byte[]?> ReadBodyAsync(HttpContext http, CancellationToken ct)
    {
        var limit = options.MaxBodyBytes;
        if (http.Request.ContentLength > limit) return null;
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = limit + 1L;
        // Grown while reading: a declared Content-Length reserves nothing before the bytes arrive.
        using var buffer = new MemoryStream(http.Request.ContentLength is > 0 and var n ? (int)Math.Min(n, 16 * 1024) : 1024);
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await http.Request.Body.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit) return null;
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }

        return buffer.ToArray();
    }

    /// <summary>The execution's <c>trigger</c> input: JSON bodies parsed, form bodies as an object of fields, any other body as
    /// a string (base64 when it is not UTF-8 text), an empty body as <c>{}</c>.</summary>
    private bool TryReadInput(HttpRequest request, byte[] body, out JsonElement payload, out string? error)
    {
        error = null;
        payload = default;
        if (body.Length == 0)
        {
            payload = EmptyObject;
            return true;
        }

        var type = request.ContentType ?? "";
        if (type.Contains("json", StringComparison.OrdinalIgnoreCase) && !System.Text.Unicode.Utf8.IsValid(body))
        {
            error = "The body is declared JSON but is not valid UTF-8.";
            return false;
        }

        if (type.Length == 0 || type.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = api.MaxJsonDepth });
                payload = document.RootElement.Clone();
                return true;
            }
            catch (JsonException e) when (type.Length > 0)
            {
                error = $"The body is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}), or nests deeper than {api.MaxJsonDepth} levels.";
                return false;
            }
            catch (JsonException)
            {
                // No content type and not JSON: taken as text below.
            }
        }

        if (type.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) && System.Text.Unicode.Utf8.IsValid(body))
        {
            var fields = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body));
            payload = JsonSerializer.SerializeToElement(fields.ToDictionary(f => f.Key,
                f => f.Value.Count == 1 ? (object?)f.Value.ToString() : f.Value.ToArray()));
            return true;
        }

        payload = JsonSerializer.SerializeToElement(System.Text.Unicode.Utf8.IsValid(body) ? Encoding.UTF8.GetString(body) : Convert.ToBase64String(body));
        return true;
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    /// <summary>The sender's delivery id, which makes a redelivery a duplicate: with Standard Webhooks only the signed
    /// <c>webhook-id</c> (an unsigned header could be changed by whoever replays a captured request); otherwise
    /// <c>X-GitHub-Delivery</c>, else <c>Idempotency-Key</c>, else <c>webhook-id</c>. Any length the signature check accepts is
    /// used whole (the request id is a hash of it); the log keeps its first 256 characters.</summary>
    private static string? DeliveryId(HttpRequest request, WebhookConfig config)
    {
        string[] names = config is { AuthType: "hmac", HmacScheme: "standard" }
            ? [WebhookSignatures.StandardId]
            : ["X-GitHub-Delivery", "Idempotency-Key", WebhookSignatures.StandardId];
        foreach (var name in names)
            if (request.Headers[name].ToString() is { Length: > 0 and <= WebhookSignatures.MaxHeaderLength } id) return id;
        return null;
    }

    private async Task RefuseAsync(Call call, TriggerState trigger, WebhookConfig config, int status, string reason, string problemType, string detail)
    {
        TriggerMetrics.WebhookRequests.Add(1, new KeyValuePair<string, object?>("outcome", status.ToString(CultureInfo.InvariantCulture)));
        await RecordAsync(Record(call, trigger, config, status, reason, detail, PrefixedId.New("whr", clock), null, null, null), trigger).ConfigureAwait(false);
        await ProblemResponses.WriteAsync(call.Http, status, problemType, Title(status), detail,
            new Dictionary<string, object?> { ["reason"] = reason }).ConfigureAwait(false);
    }

    private static string Title(int status) => ReasonPhrases.GetReasonPhrase(status);

    /// <summary>Records a request that starts nothing. A failure to record is logged, not turned into a 500: the caller
    /// still gets the answer its request earned.</summary>
    private async Task RecordAsync(WebhookRequestRecorded record, TriggerState trigger)
    {
        try
        {
            await store.AppendToStreamAsync(WebhookEventTypes.StreamFor(record.RequestId), ExpectedRevision.NoStream,
                [serializer.Serialize(record, Guid.CreateVersion7(), Metadata(trigger, record.RequestId))], CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // the request log must not turn a refusal into a 500
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogRecordFailed(e, record.TriggerId, record.Status);
        }
    }

    private WebhookRequestRecorded Record(Call call, TriggerState trigger, WebhookConfig config, int status, string? reason, string? detail,
        string requestId, string? executionId, string? duplicateOf, string? deliveryId)
    {
        var request = call.Http.Request;
        var (body, encoding, truncated) = WebhookRequestCapture.LogBody(call.Body, options.LogBodyBytes);
        return new WebhookRequestRecorded(requestId, trigger.TenantId, trigger.Environment, trigger.Id, trigger.WorkflowId, Clip(request.Method, 20),
            Clip(request.Path.Value ?? "", 512), WebhookRequestCapture.Query(request.Query, config.ApiKeyHeader, redact: true),
            WebhookRequestCapture.LogHeaders(request.Headers, config.ApiKeyHeader), body, encoding, call.Body.Length, truncated, status, reason, detail,
            Math.Round(Stopwatch.GetElapsedTime(call.Started).TotalMilliseconds, 3), call.Http.Connection.RemoteIpAddress?.ToString(),
            Clip(request.Headers.UserAgent.ToString(), 512) is { Length: > 0 } ua ? ua : null, deliveryId is null ? null : Clip(deliveryId, 256), executionId,
            duplicateOf, call.ReceivedAt);
    }

    private static EventMetadata Metadata(TriggerState trigger, string requestId) =>
        new(trigger.TenantId, trigger.Environment, $"webhook:{trigger.Id}", requestId, null);

    private async Task NotFoundAsync(HttpContext http, string triggerId)
    {
        TriggerMetrics.WebhookRequests.Add(1, new KeyValuePair<string, object?>("outcome", "404"));
        LogUnknown(Clip(triggerId, 40));
        await ProblemResponses.WriteAsync(http, 404, "not-found", "Not Found", "No webhook trigger with this id exists.").ConfigureAwait(false);
    }

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..max];

    /// <summary>One request on its way through the checks.</summary>
    private sealed class Call(HttpContext http, long started, DateTimeOffset receivedAt)
    {
        public HttpContext Http { get; } = http;
        public long Started { get; } = started;
        public DateTimeOffset ReceivedAt { get; } = receivedAt;
        public byte[] Body { get; set; } = [];
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Webhook request for unknown trigger {TriggerId}: 404 (not recorded: no tenant owns it)")]
    private partial void LogUnknown(string triggerId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not record a webhook request to {TriggerId} (status {Status})")]
    private partial void LogRecordFailed(Exception exception, string triggerId, int status);
}

/// <summary>The 202 of an accepted webhook request (SPEC §4), with the request's id for its log.</summary>
internal sealed record WebhookAccepted(bool Success, string? ExecutionId, string Message, string RequestId);
