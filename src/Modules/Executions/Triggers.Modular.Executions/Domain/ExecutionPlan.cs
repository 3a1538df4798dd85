using System.Collections.Immutable;
using System.Text.Json;

namespace Triggers.Modular.Executions.Domain;

/// <summary>Retry policy of one step, resolved field by field: the step's, else the definition's, else the default
/// (3 attempts, 1 s, ×2.0, at most 60 s).</summary>
internal sealed record RetryPolicy(int MaxAttempts, double InitialIntervalSeconds, double BackoffCoefficient, double MaxIntervalSeconds,
    ImmutableHashSet<string> NonRetryableErrors)
{
    public static RetryPolicy Default { get; } = new(3, 1, 2.0, 60, []);

    /// <summary>Delay before attempt <c>failedAttempts + 1</c>, after <paramref name="failedAttempts"/> failures (≥ 1).</summary>
    public TimeSpan BackoffAfter(int failedAttempts)
    {
        var seconds = InitialIntervalSeconds * Math.Pow(BackoffCoefficient, Math.Max(0, failedAttempts - 1));
        return TimeSpan.FromSeconds(Math.Min(double.IsFinite(seconds) ? seconds : MaxIntervalSeconds, MaxIntervalSeconds));
    }
}

/// <summary>A step as the runtime needs it. <see cref="DependsOn"/> is the effective list: the declared <c>depends_on</c>,
/// or, when a step declares none, every step with a lower <c>order</c> (so plain ordered steps run one after the other,
/// and steps sharing an order run in parallel). A step without <c>order</c> takes its position in the list (1-based).
/// <see cref="ExplicitDependencies"/>: declared ones carry a skip forward (the step is skipped when one did not complete);
/// implicit ones (by order) only sequence — a skipped earlier step does not skip the later ones.</summary>
internal sealed record PlannedStep(string Id, int Order, string Type, string? Name, ImmutableArray<string> DependsOn, JsonElement? Condition,
    JsonElement Config, RetryPolicy Retry, int? TimeoutSeconds, bool ExplicitDependencies);

/// <summary>
/// One definition version compiled for execution: steps in (order, position) order with effective dependencies. Built
/// from the stored document, which Definitions validated; <see cref="Error"/> is set when the effective graph still cannot
/// run (a declared dependency on a later step that implicitly waits for it), and the execution then fails at once.
/// </summary>
internal sealed record ExecutionPlan(string WorkflowId, int Version, ImmutableArray<PlannedStep> Steps, int? TimeoutSeconds, string? Error)
{
    public PlannedStep Step(string id) => Steps.First(s => string.Equals(s.Id, id, StringComparison.Ordinal));

    public static ExecutionPlan From(string workflowId, int version, JsonElement definition)
    {
        var defaults = ReadPolicy(definition, RetryPolicy.Default);
        var raw = new List<(string Id, int Order, string Type, string? Name, string[]? Deps, JsonElement? Condition, JsonElement Config,
            RetryPolicy Retry, int? Timeout)>();
        if (definition.TryGetProperty("steps", out var steps) && steps.ValueKind == JsonValueKind.Array)
        {
            var position = 0;
            foreach (var s in steps.EnumerateArray())
            {
                position++;
                string[]? deps = s.TryGetProperty("depends_on", out var d) && d.ValueKind == JsonValueKind.Array
                    ? d.EnumerateArray().Select(x => x.GetString()!).ToArray()
                    : null;
                raw.Add((s.GetProperty("id").GetString()!, Int(s, "order") ?? position, s.GetProperty("type").GetString()!, Str(s, "name"), deps,
                    s.TryGetProperty("condition", out var c) && c.ValueKind == JsonValueKind.Object ? c.Clone() : null,
                    s.TryGetProperty("config", out var cfg) ? cfg.Clone() : default,
                    ReadPolicy(s, defaults), Int(s, "timeout_seconds")));
            }
        }

        var ordered = raw.Select((s, i) => (s, i)).OrderBy(x => x.s.Order).ThenBy(x => x.i).Select(x => x.s).ToList();
        var planned = ordered.Select(s => new PlannedStep(s.Id, s.Order, s.Type, s.Name,
            s.Deps is { } explicitDeps
                ? [.. explicitDeps]
                : [.. ordered.Where(o => o.Order < s.Order).Select(o => o.Id)],
            s.Condition, s.Config, s.Retry, s.Timeout, s.Deps is not null)).ToImmutableArray();
        return new ExecutionPlan(workflowId, version, planned, Int(definition, "timeout_seconds"), FindDeadlock(planned));
    }

    private static RetryPolicy ReadPolicy(JsonElement owner, RetryPolicy fallback)
    {
        if (!owner.TryGetProperty("retry_policy", out var p) || p.ValueKind != JsonValueKind.Object) return fallback;
        return new RetryPolicy(
            Int(p, "max_attempts") ?? fallback.MaxAttempts,
            Num(p, "initial_interval_seconds") ?? fallback.InitialIntervalSeconds,
            Num(p, "backoff_coefficient") ?? fallback.BackoffCoefficient,
            Num(p, "max_interval_seconds") ?? fallback.MaxIntervalSeconds,
            p.TryGetProperty("non_retryable_errors", out var n) && n.ValueKind == JsonValueKind.Array
                ? [.. n.EnumerateArray().Select(x => x.GetString() ?? "")]
                : fallback.NonRetryableErrors);
    }

    // Kahn's algorithm over the effective edges: whatever is left names steps that can never become ready.
    private static string? FindDeadlock(ImmutableArray<PlannedStep> steps)
    {
        var known = steps.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        var remaining = steps.ToDictionary(s => s.Id, s => s.DependsOn.Count(known.Contains), StringComparer.Ordinal);
        var queue = new Queue<string>(remaining.Where(r => r.Value == 0).Select(r => r.Key));
        var dependents = steps.SelectMany(s => s.DependsOn.Where(known.Contains).Select(d => (d, s.Id))).ToLookup(x => x.d, x => x.Id);
        while (queue.Count > 0)
        {
            var id = queue.Dequeue();
            remaining.Remove(id);
            foreach (var next in dependents[id])
                if (remaining.ContainsKey(next) && --remaining[next] == 0) queue.Enqueue(next);
        }

        return remaining.Count == 0
            ? null
            : $"steps {string.Join(", ", remaining.Keys.Order(StringComparer.Ordinal).Select(k => $"'{k}'"))} wait for each other: a step without "
              + "depends_on waits for every step with a lower order, and one of them depends on it";
    }

    private static int? Int(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;

    private static double? Num(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
