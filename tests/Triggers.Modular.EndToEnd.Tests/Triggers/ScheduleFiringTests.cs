using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Triggers.Contracts;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary>Schedule triggers fire (issue 8, in progress; ADR 0015): each slot once, with a slot-derived execution that
/// completes — on one host, and with two hosts on one PostgreSQL racing for every slot.</summary>
public sealed class ScheduleFiringTests
{
    private const string SetStep = """[ { "id": "s", "type": "set", "config": { "values": { "slot": "{{ trigger.slot }}" } } } ]""";

    private static async Task<string> CreateScheduleAsync(HttpClient client, string workflow, string cron)
    {
        var response = await client.PostJsonAsync("/api/v1/triggers", new
        {
            WorkflowId = workflow, Name = "tick", Type = "schedule", Config = new { CronExpression = cron, OverlapPolicy = "allow_all" },
        });
        var created = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, created.ToJsonString());
        return Str(created["id"]);
    }

    private static async Task<List<RecordedEvent>> SlotEventsAsync(ApiHost host, string triggerId) =>
        [.. (await host.Services.GetRequiredService<IEventStore>().ReadStreamAsync(ScheduleEventTypes.StreamFor(triggerId), ReadDirection.Forward, 0, 10_000))
            .Where(e => e.Type == ScheduleEventTypes.SlotFired)];

    [Fact]
    public async Task Given_a_schedule_every_two_seconds_When_it_runs_Then_each_slot_fires_once_and_its_execution_completes_with_the_slot()
    {
        await using var host = await ApiHost.StartAsync(StoreKind.Sqlite, new() { ["Triggers:Schedules:PollSeconds"] = "0.2" });
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite);
        var workflow = await CreateDefinitionAsync(client, SetStep);
        var trigger = await CreateScheduleAsync(client, workflow, "*/2 * * * * *");

        var executions = (await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflow}&trigger_type=schedule&status=completed"),
            l => l["items"]!.AsArray().Count >= 2, "two completed scheduled executions", seconds: 20))["items"]!.AsArray();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(Url($"/api/v1/triggers/{trigger}/disable"), null)).StatusCode);

        var fired = (await SlotEventsAsync(host, trigger)).Select(e => JsonNode.Parse(e.Data)!).ToList();
        Assert.Equal(fired.Count, fired.Select(f => Str(f["slot"])).Distinct().Count());
        Assert.All(fired, f => Assert.Equal(0, DateTimeOffset.Parse(Str(f["scheduled_at"]), System.Globalization.CultureInfo.InvariantCulture).Second % 2));
        foreach (var execution in executions)
        {
            var done = await WaitForStatusAsync(client, Str(execution!["id"]), "completed");
            var slot = Str(Step(done, "s")["output"]!["slot"]);
            Assert.Contains(fired, f => Str(f["slot"]) == slot && Str(f["execution_id"]) == Str(execution["id"]));
        }
    }

    [Fact]
    public async Task Given_two_hosts_on_one_database_When_a_schedule_fires_every_second_Then_no_slot_fires_twice_and_each_starts_one_execution()
    {
        var fast = new Dictionary<string, string?> { ["Triggers:Schedules:PollSeconds"] = "0.1" };
        await using var a = await ApiHost.StartAsync(StoreKind.Postgres, fast);
        await using var b = await ApiHost.StartAsync(StoreKind.Sqlite, new Dictionary<string, string?>(fast)
        {
            ["EventStore:Provider"] = "postgres",
            ["EventStore:Postgres:ConnectionString"] = a.PostgresConnectionString,
        });
        var client = await a.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite);
        var workflow = await CreateDefinitionAsync(client, SetStep);
        var trigger = await CreateScheduleAsync(client, workflow, "* * * * * *");

        await EventuallyAsync(() => SlotEventsAsync(a, trigger), e => e.Count >= 4, "four fired slots", seconds: 20);
        await ScheduleTestApi.DisableAndSettleAsync(client, a, trigger); // rounds already under way on either host finish

        var fired = (await SlotEventsAsync(a, trigger)).Select(e => JsonNode.Parse(e.Data)!).ToList();
        var slots = fired.Select(f => Str(f["slot"])).ToList();
        Assert.Equal(slots.Count, slots.Distinct().Count());
        var executions = await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflow}&trigger_type=schedule&limit=200"),
            l => l["items"]!.AsArray().Count >= fired.Count, $"{fired.Count} scheduled executions");
        Assert.Equal(fired.Select(f => Str(f["execution_id"])).Order(), Ids(executions).Order());
    }

    [Fact]
    public async Task Given_a_schedule_When_paused_resumed_and_run_now_Then_nothing_fires_while_paused_and_get_shows_state_next_last_and_count()
    {
        await using var host = await ApiHost.StartAsync(StoreKind.Sqlite, new() { ["Triggers:Schedules:PollSeconds"] = "0.1" });
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);
        var workflow = await CreateDefinitionAsync(client, SetStep);
        var created = await (await client.PostJsonAsync("/api/v1/triggers", new
        {
            WorkflowId = workflow, Name = "tick", Type = "schedule", Enabled = true, Config = new { CronExpression = "* * * * * *" },
        })).JsonAsync();
        var trigger = Str(created["id"]);
        var pause = await (await client.PostAsync(Url($"/api/v1/triggers/{trigger}/pause"), null)).JsonAsync();
        Assert.Equal("paused", Str(pause["schedule"]!["state"]));
        Assert.Null(pause["schedule"]!["next_run_at"]);
        var firedBeforePause = (await SlotEventsAsync(host, trigger)).Count;

        await Task.Delay(2500); // two slots pass while paused
        Assert.Equal(firedBeforePause, (await SlotEventsAsync(host, trigger)).Count);

        var run = await client.PostAsync(Url($"/api/v1/triggers/{trigger}/run"), null);
        Assert.Equal(HttpStatusCode.Accepted, run.StatusCode);
        var runNow = Str((await run.JsonAsync())["execution_id"]);
        await EventuallyAsync(async () => (await client.GetAsync(Url($"{ExecutionsRoute}/{runNow}"))).StatusCode, s => s == HttpStatusCode.OK,
            "the run-now execution");
        Assert.Equal("schedule", Str((await WaitForStatusAsync(client, runNow, "completed"))["trigger_type"]));

        var resumed = await (await client.PostAsync(Url($"/api/v1/triggers/{trigger}/resume"), null)).JsonAsync();
        Assert.Equal("active", Str(resumed["schedule"]!["state"]));
        await EventuallyAsync(() => SlotEventsAsync(host, trigger), e => e.Count(x => !x.Data.Contains("run_now", StringComparison.Ordinal)) > firedBeforePause,
            "a slot after resuming");
        var got = await (await client.GetAsync(Url($"/api/v1/triggers/{trigger}"))).JsonAsync();
        var view = got["schedule"]!;
        Assert.Equal("active", Str(view["state"]));
        Assert.True(view["run_count"]!.GetValue<long>() >= firedBeforePause + 2, view.ToJsonString());
        Assert.True(Time(view["next_run_at"]) > Time(view["last_run_at"]) - TimeSpan.FromSeconds(1), view.ToJsonString());
        var fired = (await SlotEventsAsync(host, trigger)).Select(e => JsonNode.Parse(e.Data)!).ToList();
        Assert.DoesNotContain(fired, f => Str(f["kind"]) == "catch_up"); // the paused slots were not caught up
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(Url($"/api/v1/triggers/{trigger}/disable"), null)).StatusCode);
        await (await client.PostAsync(Url($"/api/v1/triggers/{trigger}/run"), null)).ProblemAsync(409, "trigger-disabled");
        Assert.Equal("disabled", Str((await (await client.GetAsync(Url($"/api/v1/triggers/{trigger}"))).JsonAsync())["schedule"]!["state"]));
    }

    [Fact]
    public async Task Given_an_event_trigger_When_paused_or_run_Then_409_not_a_schedule()
    {
        await using var host = await ApiHost.StartAsync(StoreKind.Sqlite);
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);
        var workflow = await CreateDefinitionAsync(client, SetStep);
        var created = await (await client.PostJsonAsync("/api/v1/triggers",
            new { WorkflowId = workflow, Name = "ev", Type = "event", Config = new { EventName = "a.b" } })).JsonAsync();
        foreach (var verb in new[] { "pause", "resume", "run" })
            await (await client.PostAsync(Url($"/api/v1/triggers/{Str(created["id"])}/{verb}"), null)).ProblemAsync(409, "not-a-schedule");
    }
}
