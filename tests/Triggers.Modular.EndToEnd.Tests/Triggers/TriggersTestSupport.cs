using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Triggers.Contracts;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary>One host per store kind, started on first use and shared by the tests of a class.</summary>
public sealed class EventsHosts : IAsyncLifetime
{
    private readonly Lock _lock = new();
    private readonly Dictionary<StoreKind, Task<ApiHost>> _hosts = [];

    public Task<ApiHost> GetAsync(StoreKind kind)
    {
        lock (_lock)
        {
            if (!_hosts.TryGetValue(kind, out var host)) _hosts[kind] = host = ApiHost.StartAsync(kind);
            return host;
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts.Values)
            if (host.IsCompletedSuccessfully) await (await host).DisposeAsync();
    }
}

/// <summary>Calls and waits shared by the tests of events, routing, the dry run and <c>emit_event</c>.</summary>
public static class TriggerTestApi
{
    public const string SetStep = """[ { "id": "s", "type": "set", "config": { "values": { "got": "{{ trigger.order_id }}" } } } ]""";

    public static async Task<HttpClient> ClientAsync(ApiHost host, string tenant = "acme", string environment = "dev") =>
        await host.ClientAsync(tenant, environment, Permissions.EventsWrite, Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);

    public static string EventTrigger(string name, string extra = "") =>
        $$"""  "trigger": { "type": "event", "event_name": "{{name}}"{{(extra.Length > 0 ? ", " + extra : "")}} }""";

    public static async Task<string> SendAsync(HttpClient client, string name, object payload, string? key = null)
    {
        var response = await client.PostJsonAsync("/api/v1/events", new { Name = name, Payload = payload }, key);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        return JsonNode.Parse(text)!["event_id"]!.GetValue<string>();
    }

    /// <summary>The routing decisions recorded in the event's stream (after <c>event_accepted</c>), once there are some.</summary>
    public static async Task<RecordedEvent[]> DecisionsAsync(ApiHost host, string eventId)
    {
        var store = host.Services.GetRequiredService<IEventStore>();
        var events = await EventuallyAsync(() => store.ReadStreamAsync(EventEventTypes.StreamFor(eventId), ReadDirection.Forward, 0, 100),
            e => e.Count > 1, $"event {eventId} to be routed");
        return [.. events.Skip(1)];
    }

    /// <summary>Waits until the workflow's executions started by event triggers number <paramref name="count"/>; returns them.</summary>
    public static async Task<JsonArray> EventExecutionsAsync(HttpClient client, string workflowId, int count) =>
        (await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflowId}&trigger_type=event&limit=200"),
            l => l["items"]!.AsArray().Count >= count, $"{count} event-triggered executions of {workflowId}"))["items"]!.AsArray();

    /// <summary>The triggers declared in definitions become trigger resources through a processor, a few milliseconds after
    /// the definitions' 201s: waits until the read model that routing uses lists one for each workflow.</summary>
    public static async Task WaitRoutableAsync(ApiHost host, string eventName, params string[] workflowIds)
    {
        var database = host.Services.GetRequiredService<IStoreDatabase>();
        var table = database.Dialect == StoreDialect.Postgres ? "triggers.triggers" : "triggers_triggers";
        await EventuallyAsync(async () =>
        {
            await using var connection = await database.OpenConnectionAsync();
            return (await connection.QueryAsync<string>($"SELECT workflow_id FROM {table} WHERE event_name = @eventName", new { eventName })).ToList();
        }, ids => workflowIds.All(ids.Contains), $"triggers of {eventName} for {string.Join(", ", workflowIds)}");
    }

    /// <summary>Waits until the read model routing uses shows the trigger enabled or disabled.</summary>
    public static async Task WaitEnabledAsync(ApiHost host, string triggerId, bool enabled)
    {
        var database = host.Services.GetRequiredService<IStoreDatabase>();
        var table = database.Dialect == StoreDialect.Postgres ? "triggers.triggers" : "triggers_triggers";
        await EventuallyAsync(async () =>
        {
            await using var connection = await database.OpenConnectionAsync();
            return await connection.ExecuteScalarAsync<bool>($"SELECT enabled FROM {table} WHERE trigger_id = @triggerId", new { triggerId });
        }, e => e == enabled, $"trigger {triggerId} enabled = {enabled} in the read model");
    }
}
