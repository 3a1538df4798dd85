using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Executions;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Temporal.Workflows;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;

namespace Triggers.Modular.Temporal.Tests;

/// <summary>Hosts with the test step types (<c>flaky</c>, <c>fail</c>, <c>slow</c>, …): one running executions itself (the
/// embedded runtime, the reference), one recording them and running nothing (<c>Executions:Runtime:Mode=none</c>) for the
/// workflow's activities to drive.</summary>
internal static class TemporalTestHosts
{
    public static Task<ApiHost> StartAsync(StoreKind kind, StepProbe probe, bool embedded) =>
        StartAsync(kind, probe, new Dictionary<string, string?> { ["Executions:Runtime:Mode"] = embedded ? "embedded" : "none" });

    /// <summary>A host with the test step types and <paramref name="settings"/> over the executions tests' runtime settings.</summary>
    public static Task<ApiHost> StartAsync(StoreKind kind, StepProbe probe, Dictionary<string, string?> settings)
    {
        var all = ExecutionsHosts.Settings();
        foreach (var (key, value) in settings) all[key] = value;
        return ApiHost.StartAsync(kind, all, services =>
        {
            services.AddSingleton(probe);
            services.AddStepType<FlakyStepType>().AddStepHandler<FlakyHandler>();
            services.AddStepType<FailStepType>().AddStepHandler<FailHandler>();
            services.AddStepType<SlowStepType>().AddStepHandler<SlowHandler>();
            services.AddStepType<ToggleStepType>().AddStepHandler<ToggleHandler>();
        });
    }

    public static Task<HttpClient> ClientAsync(ApiHost host) =>
        host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);

    /// <summary>The workflow's activities as a worker of that host would run them.</summary>
    public static ExecutionActivities Activities(ApiHost host) =>
        new(host.Services.GetRequiredService<IExecutionRuntimePort>(), TimeProvider.System);

    /// <summary>The execution's events as the history API shows them: <c>type step#attempt</c> (times, workers, ids aside).</summary>
    public static async Task<string[]> EventsAsync(HttpClient client, string executionId)
    {
        var history = (await HistoryAsync(client, executionId))["events"]!.AsArray();
        return [.. history.Select(Describe)];
    }

    private static string Describe(JsonNode? e)
    {
        var data = e!["data"]!;
        var step = data["step_id"]?.GetValue<string>();
        var attempt = data["attempt"] ?? data["next_attempt"];
        return $"{Str(e["type"])} {step}{(attempt is null ? "" : "#" + attempt.ToJsonString())}".Trim();
    }

    /// <summary>Events grouped the way parallel steps may interleave differently on two runtimes yet mean the same: the
    /// execution's own events in order, and each step's events in order.</summary>
    public static string[] PerStep(IEnumerable<string> events) =>
        [.. events.GroupBy(e => e.Split(' ') is [_, var step, ..] ? step.Split('#')[0] : "")
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{(g.Key.Length == 0 ? "(execution)" : g.Key)}: {string.Join(", ", g.Select(e => e.Split(' ')[0]))}")];

    /// <summary>The events of <paramref name="steps"/> run by the embedded runtime (cancelled once
    /// <paramref name="cancelWhenEntered"/>'s handler is entered, when given), as <see cref="EventsAsync"/> describes them.</summary>
    public static async Task<string[]> EmbeddedReferenceAsync(StoreKind kind, StepProbe probe, string steps, string extra, string expected,
        string? cancelWhenEntered = null)
    {
        await using var embedded = await StartAsync(kind, probe, embedded: true);
        var client = await ClientAsync(embedded);
        var run = await TriggerAsync(client, await CreateDefinitionAsync(client, steps, extra), new { who = "ada" });
        if (cancelWhenEntered is not null)
        {
            await probe.WaitEnteredAsync(run, cancelWhenEntered);
            await CancelAsync(client, run);
        }

        await WaitForStatusAsync(client, run, expected);
        return await EventsAsync(client, run);
    }

    public static async Task CancelAsync(HttpClient client, string executionId)
    {
        var response = await client.PostAsync(EndToEnd.Tests.Support.Http.Url($"{ExecutionsRoute}/{executionId}/cancel"), null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }
}
