using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Executions.Contracts.Steps;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Executions;

/// <summary>
/// What the test step handlers did, keyed by <c>{execution_id}:{step_id}</c> (the handlers' idempotency key), so that
/// executions of one shared host never see each other's state: calls, entries, cancellations, gates the test opens.
/// </summary>
public sealed class StepProbe
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _entered = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _cancelled = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _allowed = new(StringComparer.Ordinal);

    private static string Key(string executionId, string stepId) => $"{executionId}:{stepId}";

    private static TaskCompletionSource Signal(ConcurrentDictionary<string, TaskCompletionSource> map, string key) =>
        map.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    internal int Hit(StepExecutionContext step) => _calls.AddOrUpdate(Key(step.ExecutionId, step.StepId), 1, (_, n) => n + 1);

    internal void MarkEntered(StepExecutionContext step) => Signal(_entered, Key(step.ExecutionId, step.StepId)).TrySetResult();

    internal void MarkCancelled(StepExecutionContext step) => Signal(_cancelled, Key(step.ExecutionId, step.StepId)).TrySetResult();

    internal Task Gate(string executionId, string gate) => Signal(_gates, $"{executionId}#{gate}").Task;

    internal bool IsAllowed(string executionId) => _allowed.ContainsKey(executionId);

    /// <summary>How often the handler of that step ran in that execution.</summary>
    public int Calls(string executionId, string stepId) => _calls.GetValueOrDefault(Key(executionId, stepId));

    public bool WasCancelled(string executionId, string stepId) =>
        _cancelled.TryGetValue(Key(executionId, stepId), out var tcs) && tcs.Task.IsCompleted;

    /// <summary>Lets every <c>slow</c> step of that execution waiting on <paramref name="gate"/> finish.</summary>
    public void Release(string executionId, string gate = "go") => Signal(_gates, $"{executionId}#{gate}").TrySetResult();

    /// <summary>From now on the <c>toggle</c> steps of that execution succeed.</summary>
    public void Allow(string executionId) => _allowed[executionId] = true;

    public Task WaitEnteredAsync(string executionId, string stepId, double seconds = 15) =>
        WaitAsync(Signal(_entered, Key(executionId, stepId)).Task, seconds, $"the handler of step '{stepId}' of {executionId} to be entered");

    public Task WaitCancelledAsync(string executionId, string stepId, double seconds = 15) =>
        WaitAsync(Signal(_cancelled, Key(executionId, stepId)).Task, seconds,
            $"the cancellation token of step '{stepId}' of {executionId} to be signalled");

    private static async Task WaitAsync(Task task, double seconds, string what)
    {
        try
        {
            await task.WaitAsync(TimeSpan.FromSeconds(seconds));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Timed out after {seconds} s waiting for {what}.");
        }
    }
}

/// <summary>A test step type: any config is valid (the handlers read what they need).</summary>
public abstract class TestStepType : IStepType
{
    public abstract string Name { get; }

    public string Description => $"Test step '{Name}'.";

    public string ConfigSchema => """{ "type": "object" }""";

    public IReadOnlyList<StepConfigError> Validate(JsonElement config) => [];
}

public sealed class FlakyStepType : TestStepType
{
    public override string Name => "flaky";
}

public sealed class FailStepType : TestStepType
{
    public override string Name => "fail";
}

public sealed class SlowStepType : TestStepType
{
    public override string Name => "slow";
}

public sealed class ToggleStepType : TestStepType
{
    public override string Name => "toggle";
}

public sealed class CountStepType : TestStepType
{
    public override string Name => "count";
}

internal static class Cfg
{
    public static int Int(StepExecutionContext step, string name, int fallback) =>
        step.Config.ValueKind == JsonValueKind.Object && step.Config.TryGetProperty(name, out var v) && v.TryGetInt32(out var i) ? i : fallback;

    public static string Str(StepExecutionContext step, string name, string fallback) =>
        step.Config.ValueKind == JsonValueKind.Object && step.Config.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : fallback;

    public static JsonElement Json(object value) => JsonSerializer.SerializeToElement(value, SnakeCase);
}

/// <summary><c>flaky</c>: fails retryably (<c>flaky_error</c>) for the first <c>failures</c> calls, then completes with <c>{ calls }</c>.</summary>
public sealed class FlakyHandler(StepProbe probe) : IStepHandler
{
    public string StepType => "flaky";

    public ValueTask<StepOutcome> ExecuteAsync(StepExecutionContext step, CancellationToken cancellationToken)
    {
        var n = probe.Hit(step);
        return ValueTask.FromResult(n <= Cfg.Int(step, "failures", 0)
            ? StepOutcome.RetryableError("flaky_error", $"flaky failure {n}")
            : StepOutcome.Success(Cfg.Json(new { calls = n, attempt = step.Attempt })));
    }
}

/// <summary><c>fail</c>: fails non-retryably with <c>code</c> (default <c>bad_input</c>).</summary>
public sealed class FailHandler(StepProbe probe) : IStepHandler
{
    public string StepType => "fail";

    public ValueTask<StepOutcome> ExecuteAsync(StepExecutionContext step, CancellationToken cancellationToken)
    {
        probe.Hit(step);
        return ValueTask.FromResult(StepOutcome.NonRetryableError(Cfg.Str(step, "code", "bad_input"), "the input is not acceptable"));
    }
}

/// <summary><c>slow</c>: signals it was entered, then waits for the test to open gate <c>gate</c> (default <c>go</c>), honouring
/// cancellation (recorded, then rethrown).</summary>
public sealed class SlowHandler(StepProbe probe) : IStepHandler
{
    public string StepType => "slow";

    public async ValueTask<StepOutcome> ExecuteAsync(StepExecutionContext step, CancellationToken cancellationToken)
    {
        probe.Hit(step);
        probe.MarkEntered(step);
        try
        {
            await probe.Gate(step.ExecutionId, Cfg.Str(step, "gate", "go")).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            probe.MarkCancelled(step);
            throw;
        }

        return StepOutcome.Success(Cfg.Json(new { released = true, step = step.StepId }));
    }
}

/// <summary><c>toggle</c>: fails non-retryably (<c>not_yet</c>) until the test calls <see cref="StepProbe.Allow"/>.</summary>
public sealed class ToggleHandler(StepProbe probe) : IStepHandler
{
    public string StepType => "toggle";

    public ValueTask<StepOutcome> ExecuteAsync(StepExecutionContext step, CancellationToken cancellationToken)
    {
        var n = probe.Hit(step);
        return ValueTask.FromResult(probe.IsAllowed(step.ExecutionId)
            ? StepOutcome.Success(Cfg.Json(new { ok = true, calls = n }))
            : StepOutcome.NonRetryableError("not_yet", "not allowed yet"));
    }
}

/// <summary><c>count</c>: completes with <c>{ calls, nonce }</c>; a re-run would change both.</summary>
public sealed class CountHandler(StepProbe probe) : IStepHandler
{
    public string StepType => "count";

    public ValueTask<StepOutcome> ExecuteAsync(StepExecutionContext step, CancellationToken cancellationToken) =>
        ValueTask.FromResult(StepOutcome.Success(Cfg.Json(new { calls = probe.Hit(step), nonce = Guid.NewGuid().ToString("N") })));
}

/// <summary>One host per store kind, started on first use and shared by the tests of a class; the test step types and
/// handlers registered, the runtime tuned for speed.</summary>
public sealed class ExecutionsHosts : IAsyncLifetime
{
    private readonly Lock _lock = new();
    private readonly Dictionary<StoreKind, Task<ApiHost>> _hosts = [];

    public StepProbe Probe { get; } = new();

    public static Dictionary<string, string?> Settings() => new()
    {
        ["Executions:Runtime:PollIntervalSeconds"] = "0.2",
        ["Executions:Runtime:LeaseGraceSeconds"] = "1",
    };

    public Task<ApiHost> GetAsync(StoreKind kind)
    {
        lock (_lock)
        {
            if (!_hosts.TryGetValue(kind, out var host))
            {
                host = ApiHost.StartAsync(kind, Settings(), services =>
                {
                    services.AddSingleton(Probe);
                    services.AddStepType<FlakyStepType>().AddStepHandler<FlakyHandler>();
                    services.AddStepType<FailStepType>().AddStepHandler<FailHandler>();
                    services.AddStepType<SlowStepType>().AddStepHandler<SlowHandler>();
                    services.AddStepType<ToggleStepType>().AddStepHandler<ToggleHandler>();
                    services.AddStepType<CountStepType>().AddStepHandler<CountHandler>();
                });
                _hosts[kind] = host;
            }

            return host;
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts.Values)
            if (host.IsCompletedSuccessfully) await (await host).DisposeAsync(); // one that failed to start has nothing to dispose
    }
}

/// <summary>Calls and polling helpers over the executions API.</summary>
public static class ExecutionsApi
{
    public const string DefinitionsRoute = "/api/v1/workflows/definitions";
    public const string ExecutionsRoute = "/api/v1/workflows/executions";

    /// <summary>The fast retry policy: 3 attempts, 0.1 s (the smallest allowed interval), ×2, at most 1 s.</summary>
    public const string FastRetry =
        """{ "max_attempts": 3, "initial_interval_seconds": 0.1, "backoff_coefficient": 2.0, "max_interval_seconds": 1 }""";

    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>Creates a definition from its steps (a JSON array) and optional extra top-level members; returns its id.</summary>
    public static async Task<string> CreateDefinitionAsync(HttpClient client, string steps, string extra = "")
    {
        var body = $$"""{ "name": "exec test {{Guid.NewGuid():N}}", "retry_policy": {{FastRetry}}, "steps": {{steps}}{{(extra.Length > 0 ? ", " + extra : "")}} }""";
        var response = await client.PostAsync(Url(DefinitionsRoute), Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"creating the definition: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!["id"]!.GetValue<string>();
    }

    /// <summary>Triggers a definition manually; asserts the 202 and returns the execution id.</summary>
    public static async Task<string> TriggerAsync(HttpClient client, string workflowId, object? triggerData = null)
    {
        var response = await client.PostJsonAsync($"{DefinitionsRoute}/{workflowId}/trigger", new { TriggerData = triggerData ?? new { } });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"triggering {workflowId}: {(int)response.StatusCode} {text}");
        var id = JsonNode.Parse(text)!["execution_id"]!.GetValue<string>();
        Assert.StartsWith("exec_", id, StringComparison.Ordinal);
        return id;
    }

    public static async Task<JsonObject> GetAsync(HttpClient client, string executionId)
    {
        var response = await client.GetAsync(Url($"{ExecutionsRoute}/{executionId}"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {executionId}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<JsonObject> HistoryAsync(HttpClient client, string executionId)
    {
        var response = await client.GetAsync(Url($"{ExecutionsRoute}/{executionId}/history"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {executionId}/history: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<string[]> HistoryTypesAsync(HttpClient client, string executionId) =>
        [.. (await HistoryAsync(client, executionId))["events"]!.AsArray().Select(e => e!["type"]!.GetValue<string>())];

    public static async Task<JsonObject> ListAsync(HttpClient client, string query)
    {
        var response = await client.GetAsync(Url($"{ExecutionsRoute}?{query}"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET list ?{query}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static string[] Ids(JsonObject list) => [.. list["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>())];

    /// <summary>Polls the execution until it has <paramref name="status"/>; fails at once if it ends in another terminal status,
    /// or after <paramref name="seconds"/> with the last body.</summary>
    public static async Task<JsonObject> WaitForStatusAsync(HttpClient client, string executionId, string status, double seconds = 20)
    {
        string[] terminal = ["completed", "failed", "cancelled"];
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var execution = await GetAsync(client, executionId);
            var current = execution["status"]!.GetValue<string>();
            if (current == status) return execution;
            if (terminal.Contains(current) && terminal.Contains(status))
                Assert.Fail($"expected {executionId} to end {status}, it ended {current}: {execution.ToJsonString()}");
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"{executionId} did not reach {status} within {seconds} s; last: {execution.ToJsonString()}");
            await Task.Delay(50);
        }
    }

    /// <summary>Polls <paramref name="read"/> until <paramref name="until"/> holds; fails with the last value after the deadline.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> until, string what, double seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var value = await read();
            if (until(value)) return value;
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out after {seconds} s waiting for {what}; last: {Show(value)}");
            await Task.Delay(50);
        }
    }

    private static string Show<T>(T value) => value is JsonNode node ? node.ToJsonString() : value?.ToString() ?? "null";

    public static JsonObject Step(JsonObject execution, string stepId) =>
        execution["steps"]!.AsArray().Select(s => s!.AsObject()).SingleOrDefault(s => s["id"]!.GetValue<string>() == stepId)
        ?? throw new InvalidOperationException($"no step '{stepId}' in {execution.ToJsonString()}");

    public static string Str(JsonNode? node) => node?.GetValue<string>() ?? throw new InvalidOperationException("null where a string was expected");

    public static string? StrOrNull(JsonNode? node) => node?.GetValue<string>();

    public static DateTimeOffset Time(JsonNode? node) => DateTimeOffset.Parse(Str(node), System.Globalization.CultureInfo.InvariantCulture);
}
