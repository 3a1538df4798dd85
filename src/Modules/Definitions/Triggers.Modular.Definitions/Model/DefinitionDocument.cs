using System.Text.Json;

namespace Triggers.Modular.Definitions.Model;

/// <summary>
/// A workflow definition as a tenant writes it (JSON or YAML, snake_case; SPEC §3). Every member is nullable so that a
/// missing field is reported by validation with its path rather than by the parser. Stored as sent, once valid.
/// </summary>
internal sealed record DefinitionDocument
{
    public string? Name { get; init; }
    public string? Description { get; init; }
    public TriggerDocument? Trigger { get; init; }
    public IReadOnlyList<TriggerDocument>? Triggers { get; init; }
    public IReadOnlyList<StepDocument>? Steps { get; init; }
    public bool? Enabled { get; init; }
    public RetryPolicyDocument? RetryPolicy { get; init; }
    public int? TimeoutSeconds { get; init; }
}

/// <summary>One trigger: <c>type</c> is <c>event</c>, <c>webhook</c>, <c>schedule</c>, <c>manual</c> or <c>api</c>; the other
/// members apply to some types only.</summary>
internal sealed record TriggerDocument
{
    public string? Type { get; init; }

    // event
    public string? EventName { get; init; }
    /// <summary>A list of conditions, all of which must hold (each a condition as in <see cref="StepDocument.Condition"/>).</summary>
    public JsonElement? Conditions { get; init; }
    /// <summary>A JSON Schema the event payload must satisfy.</summary>
    public JsonElement? Schema { get; init; }

    // schedule
    public string? CronExpression { get; init; }
    public string? Timezone { get; init; }
    public string? OverlapPolicy { get; init; }
    public int? CatchupWindowSeconds { get; init; }

    // webhook (SPEC §4; the secret is generated when the trigger is created, never written in a definition)
    public string? Method { get; init; }
    public string? AuthType { get; init; }
    public string? HmacScheme { get; init; }
    public string? ApiKeyHeader { get; init; }
    public IReadOnlyList<string>? AllowedOrigins { get; init; }
    public string? ResponseFormat { get; init; }
    /// <summary>Accepted requests per minute for this trigger (a sliding window per host instance); absent → the host's default.</summary>
    public int? RateLimitPerMinute { get; init; }
}

internal sealed record StepDocument
{
    public string? Id { get; init; }
    public int? Order { get; init; }
    public string? Type { get; init; }
    public string? Name { get; init; }
    public IReadOnlyList<string>? DependsOn { get; init; }
    /// <summary>A condition tree: <c>{ "all": [...] }</c>, <c>{ "any": [...] }</c>, <c>{ "not": {...} }</c> or a leaf
    /// <c>{ "path": "steps.x.output.status", "op": "eq", "value": 201 }</c>.</summary>
    public JsonElement? Condition { get; init; }
    /// <summary>The step type's config, validated by that type (<c>IStepType</c> in Executions.Contracts).</summary>
    public JsonElement? Config { get; init; }
    public RetryPolicyDocument? RetryPolicy { get; init; }
    public int? TimeoutSeconds { get; init; }
}

internal sealed record RetryPolicyDocument
{
    public int? MaxAttempts { get; init; }
    public double? InitialIntervalSeconds { get; init; }
    public double? BackoffCoefficient { get; init; }
    public double? MaxIntervalSeconds { get; init; }
    public IReadOnlyList<string>? NonRetryableErrors { get; init; }
}
