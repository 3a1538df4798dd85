using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Triggers.Modular.EndToEnd.Tests.Support;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Runtime;

/// <summary>The definitions and executions API as the runtime tests use it, and waiting without fixed sleeps.</summary>
internal static class ExecutionsApi
{
    public const string Definitions = "/api/v1/workflows/definitions";
    public const string Executions = "/api/v1/workflows/executions";

    public static async Task<string> CreateDefinitionAsync(HttpClient client, string json)
    {
        using var response = await client.PostAsync(Url(Definitions), new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"creating the definition: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["id"]!.GetValue<string>();
    }

    /// <summary>POST …/definitions/{id}/trigger → 202 with the execution id.</summary>
    public static async Task<string> TriggerAsync(HttpClient client, string definitionId, object triggerData)
    {
        using var response = await client.PostJsonAsync($"{Definitions}/{definitionId}/trigger", new { TriggerData = triggerData });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"triggering {definitionId}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["execution_id"]!.GetValue<string>();
    }

    public static async Task<JsonObject> GetExecutionAsync(HttpClient client, string executionId) =>
        await GetObjectAsync(client, $"{Executions}/{executionId}");

    /// <summary>The execution's events, in order.</summary>
    public static async Task<List<JsonObject>> HistoryAsync(HttpClient client, string executionId) =>
        (await GetObjectAsync(client, $"{Executions}/{executionId}/history"))["events"]!.AsArray().Select(e => e!.AsObject()).ToList();

    public static async Task<JsonObject> GetObjectAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(Url(path));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    public static string Type(JsonObject e) => e["type"]!.GetValue<string>();

    /// <summary>The event's step id; empty for execution-level events.</summary>
    public static string StepId(JsonObject e) => e["data"]?["step_id"]?.GetValue<string>() ?? "";

    public static int Attempt(JsonObject e) => e["data"]!["attempt"]!.GetValue<int>();

    /// <summary>How many <c>executions.step_completed</c> each step has in the history.</summary>
    public static Dictionary<string, int> CompletionsPerStep(IEnumerable<JsonObject> history) =>
        history.Where(e => Type(e) == "executions.step_completed").GroupBy(StepId).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>Polls <paramref name="check"/> until it holds or the deadline passes; then fails with <paramref name="describe"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> check, TimeSpan deadline, Func<Task<string>> describe, int pollMs = 200)
    {
        var until = DateTime.UtcNow + deadline;
        while (!await check())
        {
            if (DateTime.UtcNow > until) Assert.Fail($"Not within {deadline.TotalSeconds:0} s: {await describe()}");
            await Task.Delay(pollMs);
        }
    }

    /// <summary>Runs <paramref name="action"/> over <paramref name="items"/>, <paramref name="parallelism"/> at a time.</summary>
    public static async Task<List<TResult>> ForEachAsync<T, TResult>(IEnumerable<T> items, int parallelism, Func<T, Task<TResult>> action)
    {
        var results = new System.Collections.Concurrent.ConcurrentBag<TResult>();
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = parallelism },
            async (item, _) => results.Add(await action(item)));
        return results.ToList();
    }
}
