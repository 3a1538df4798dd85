using System.Net;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Triggers.Contracts;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;
using static Triggers.Modular.EndToEnd.Tests.Triggers.ScheduleTestApi;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary>A schedule in lists (the schedules read model) and after its trigger is deleted, on both stores.</summary>
public sealed class ScheduleLifecycleTests
{
    private static async Task<long> ReadModelRowsAsync(ApiHost host, string triggerId)
    {
        var database = host.Services.GetRequiredService<IStoreDatabase>();
        await using var connection = await database.OpenConnectionAsync();
        var table = database.Dialect == StoreDialect.Postgres ? "triggers.schedules" : "triggers_schedules";
        return await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table} WHERE trigger_id = @triggerId", new { triggerId });
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_a_firing_schedule_When_its_trigger_is_deleted_Then_nothing_fires_any_more_and_its_schedule_is_gone(StoreKind kind)
    {
        await using var host = await ApiHost.StartAsync(kind, new() { ["Triggers:Schedules:PollSeconds"] = "0.1" });
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);
        var workflow = await CreateDefinitionAsync(client, SetStep);
        var trigger = await CreateScheduleAsync(client, workflow, "* * * * * *");
        await FiredAtLeastAsync(host, trigger, 2);
        await EventuallyAsync(() => ReadModelRowsAsync(host, trigger), n => n == 1, "the schedule's read-model row");

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(Url($"/api/v1/triggers/{trigger}"))).StatusCode);
        await Task.Delay(300); // a round that read the trigger just before the delete ends
        var firedAtDelete = (await FiredAsync(host, trigger)).Count;
        await Task.Delay(2_500); // two and a half slots pass, 25 rounds of the loop

        Assert.Equal(firedAtDelete, (await FiredAsync(host, trigger)).Count);
        await EventuallyAsync(() => ReadModelRowsAsync(host, trigger), n => n == 0, "the read-model row removed");
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(Url($"/api/v1/triggers/{trigger}"))).StatusCode);
        foreach (var verb in new[] { "pause", "resume", "run" })
            await (await client.PostAsync(Url($"/api/v1/triggers/{trigger}/{verb}"), null)).ProblemAsync(404);
        var list = await (await client.GetAsync(Url("/api/v1/triggers?type=schedule"))).JsonAsync();
        Assert.DoesNotContain(list["items"]!.AsArray(), i => Str(i!["id"]) == trigger);
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_schedules_When_listed_Then_each_shows_its_state_next_and_last_run_and_run_count(StoreKind kind)
    {
        await using var host = await ApiHost.StartAsync(kind, new() { ["Triggers:Schedules:PollSeconds"] = "0.1" });
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);
        var workflow = await CreateDefinitionAsync(client, SetStep);
        var firing = await CreateScheduleAsync(client, workflow, "* * * * * *");
        var yearly = await CreateScheduleAsync(client, workflow, "0 0 1 1 *", "Europe/Paris"); // never fires during the test
        var paused = await CreateScheduleAsync(client, workflow, "0 0 1 1 *");
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(Url($"/api/v1/triggers/{paused}/pause"), null)).StatusCode);
        var events = await (await client.PostJsonAsync("/api/v1/triggers",
            new { WorkflowId = workflow, Name = "ev", Type = "event", Config = new { EventName = "a.b" } })).JsonAsync();
        await FiredAtLeastAsync(host, firing, 2);
        var fired = (await DisableAndSettleAsync(client, host, firing)).Where(e => e.Type == ScheduleEventTypes.SlotFired).ToList();

        var items = (await EventuallyAsync(async () => await (await client.GetAsync(Url($"/api/v1/triggers?workflow_id={workflow}"))).JsonAsync(),
                l => l["items"]!.AsArray().Any(i => Str(i!["id"]) == firing && i["schedule"]!["run_count"]!.GetValue<long>() == fired.Count
                                                    && Str(i["schedule"]!["state"]) == "disabled"),
                "the list caught up with the fired slots and the disable (two read models)"))["items"]!.AsArray()
            .ToDictionary(i => Str(i!["id"]), i => i!);

        var f = items[firing]["schedule"]!;
        Assert.Equal("disabled", Str(f["state"]));
        Assert.Null(f["next_run_at"]);
        Assert.True(Time(f["last_run_at"]) >= fired[^1].ScheduledAt, f.ToJsonString());
        var y = items[yearly]["schedule"]!;
        Assert.Equal(("active", 0L), (Str(y["state"]), y["run_count"]!.GetValue<long>()));
        Assert.Null(y["last_run_at"]);
        var paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        var nextNewYear = new DateTimeOffset(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, paris).Year + 1, 1, 1, 0, 0, 0, TimeSpan.FromHours(1)); // CET
        Assert.Equal(nextNewYear, Time(y["next_run_at"]));
        var p = items[paused]["schedule"]!;
        Assert.Equal("paused", Str(p["state"]));
        Assert.Null(p["next_run_at"]);
        Assert.Null(items[Str(events["id"])]["schedule"]);
        // The single GET, from the stream, agrees with the list (PostgreSQL keeps microseconds, the stream ticks).
        var single = (await (await client.GetAsync(Url($"/api/v1/triggers/{firing}"))).JsonAsync())["schedule"]!;
        Assert.Equal((Str(f["state"]), f["run_count"]!.GetValue<long>()), (Str(single["state"]), single["run_count"]!.GetValue<long>()));
        Assert.Equal(Time(single["last_run_at"]), Time(f["last_run_at"]), TimeSpan.FromMilliseconds(1));
    }
}
