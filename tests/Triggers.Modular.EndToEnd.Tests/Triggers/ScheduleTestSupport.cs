using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Triggers.Contracts;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary>A schedule stream's event, its data parsed.</summary>
public sealed record ScheduleEvent(string Type, JsonNode Data)
{
    public string Slot => Str(Data["slot"]);

    public DateTimeOffset ScheduledAt => Time(Data["scheduled_at"]);

    public string Kind => Str(Data["kind"]);

    public override string ToString() => $"{Type} {Data.ToJsonString()}";
}

/// <summary>Calls and reads shared by the schedule trigger tests (issue 8).</summary>
public static class ScheduleTestApi
{
    public const string SetStep = """[ { "id": "s", "type": "set", "config": { "values": { "slot": "{{ trigger.slot }}" } } } ]""";

    public static async Task<string> CreateScheduleAsync(HttpClient client, string workflow, string cron, string? timezone = null,
        string overlap = "allow_all", int? catchupWindowSeconds = null)
    {
        var config = new JsonObject { ["cron_expression"] = cron, ["overlap_policy"] = overlap };
        if (timezone is not null) config["timezone"] = timezone;
        if (catchupWindowSeconds is { } window) config["catchup_window_seconds"] = window;
        var response = await client.PostJsonAsync("/api/v1/triggers", new { WorkflowId = workflow, Name = "tick", Type = "schedule", Config = config });
        var created = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, created.ToJsonString());
        return Str(created["id"]);
    }

    /// <summary>The trigger's schedule stream, without the <c>TriggerFired</c> that come with fired slots.</summary>
    public static async Task<List<ScheduleEvent>> StreamAsync(ApiHost host, string triggerId) =>
        [.. (await host.Services.GetRequiredService<IEventStore>().ReadStreamAsync(ScheduleEventTypes.StreamFor(triggerId), ReadDirection.Forward, 0, 100_000))
            .Where(e => e.Type != EventEventTypes.TriggerFired)
            .Select(e => new ScheduleEvent(e.Type, JsonNode.Parse(e.Data)!))];

    public static async Task<List<ScheduleEvent>> FiredAsync(ApiHost host, string triggerId) =>
        [.. (await StreamAsync(host, triggerId)).Where(e => e.Type == ScheduleEventTypes.SlotFired)];

    /// <summary>Waits until the trigger has fired <paramref name="count"/> slots.</summary>
    public static async Task<List<ScheduleEvent>> FiredAtLeastAsync(ApiHost host, string triggerId, int count, double seconds = 15)
    {
        try
        {
            return await EventuallyAsync(() => FiredAsync(host, triggerId), f => f.Count >= count, $"{count} fired slots of {triggerId}", seconds);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidOperationException($"{e.Message}; its stream: {string.Join(" | ", await StreamAsync(host, triggerId))}", e);
        }
    }

    public static async Task DisableAsync(HttpClient client, string triggerId) =>
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(Url($"/api/v1/triggers/{triggerId}/disable"), null)).StatusCode);

    /// <summary>Disables the trigger and waits until its stream has stopped growing (unchanged for a second): a round that read
    /// the trigger just before the disable may still append one slot, however loaded the machine.</summary>
    public static async Task<List<ScheduleEvent>> DisableAndSettleAsync(HttpClient client, ApiHost host, string triggerId)
    {
        await DisableAsync(client, triggerId);
        var last = await StreamAsync(host, triggerId);
        for (var i = 0; i < 30; i++)
        {
            await Task.Delay(1_000);
            var now = await StreamAsync(host, triggerId);
            if (now.Count == last.Count) return now;
            last = now;
        }

        throw new InvalidOperationException($"the schedule of {triggerId} kept growing after it was disabled");
    }
}
