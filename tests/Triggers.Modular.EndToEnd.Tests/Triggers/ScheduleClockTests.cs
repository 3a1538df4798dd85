using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Triggers.Contracts;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;
using static Triggers.Modular.EndToEnd.Tests.Triggers.ScheduleTestApi;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary>
/// Schedules through the running firing loop of a host whose clock is injected (<see cref="ShiftedClock"/>): daylight-saving
/// days in America/New_York and a downtime longer than the catch-up window, without waiting for real minute boundaries.
/// Each jump lands a second before a slot, so the loop fires it as the real second passes, or a second after a slot that
/// must not exist, with the loop left to run past it.
/// </summary>
public sealed class ScheduleClockTests
{
    private const string NewYork = "America/New_York";

    private static DateTimeOffset Utc(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private static Task<ApiHost> StartAsync(ShiftedClock clock, Dictionary<string, string?>? settings = null) =>
        ApiHost.StartAsync(StoreKind.Sqlite, new Dictionary<string, string?>(settings ?? []) { ["Triggers:Schedules:PollSeconds"] = "0.1" },
            services => services.AddSingleton<TimeProvider>(clock));

    private static async Task<(ApiHost Host, HttpClient Client, string Workflow)> HostWithWorkflowAsync(ShiftedClock clock)
    {
        var host = await StartAsync(clock);
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite);
        return (host, client, await CreateDefinitionAsync(client, SetStep));
    }

    [Fact]
    public async Task Given_New_York_spring_forward_When_the_loop_runs_through_it_Then_the_skipped_hour_fires_once_at_the_transition()
    {
        // 2027-03-14: 02:00 EST (07:00Z) jumps to 03:00 EDT; 02:00–02:59 never happen.
        var clock = new ShiftedClock(Utc("2027-03-14T06:31:00Z")); // 01:31 EST; the host's start takes real seconds
        var (host, client, workflow) = await HostWithWorkflowAsync(clock);
        await using var _ = host;
        var quarter = await CreateScheduleAsync(client, workflow, "*/15 * * * *", NewYork);
        var daily = await CreateScheduleAsync(client, workflow, "30 2 * * *", NewYork); // 02:30 does not exist that day
        clock.JumpTo(Utc("2027-03-14T06:44:59Z"));

        await FiredAtLeastAsync(host, quarter, 1); // 01:45 EST
        clock.JumpTo(Utc("2027-03-14T06:59:59Z"));
        await FiredAtLeastAsync(host, quarter, 2); // 02:00, 02:15, 02:30, 02:45 and 03:00: one slot at the transition
        await FiredAtLeastAsync(host, daily, 1);
        clock.JumpTo(Utc("2027-03-14T07:14:59Z"));
        await FiredAtLeastAsync(host, quarter, 3); // 03:15 EDT
        clock.JumpTo(Utc("2027-03-14T07:30:01Z"));
        await FiredAtLeastAsync(host, quarter, 4); // 03:30 EDT
        await DisableAsync(client, quarter);
        await DisableAsync(client, daily);

        var q = await StreamAsync(host, quarter);
        Assert.Equal([ScheduleEventTypes.SlotFired], q.Select(e => e.Type).Distinct()); // nothing missed, skipped or buffered
        Assert.Equal(["2027-03-14T01:45:00-05:00", "2027-03-14T03:00:00-04:00", "2027-03-14T03:15:00-04:00", "2027-03-14T03:30:00-04:00"], q.Select(e => e.Slot));
        Assert.Equal([Utc("2027-03-14T06:45:00Z"), Utc("2027-03-14T07:00:00Z"), Utc("2027-03-14T07:15:00Z"), Utc("2027-03-14T07:30:00Z")],
            q.Select(e => e.ScheduledAt));
        Assert.All(q, e => Assert.Equal("on_time", e.Kind));
        var d = await StreamAsync(host, daily);
        var transition = Assert.Single(d);
        Assert.Equal((ScheduleEventTypes.SlotFired, "2027-03-14T03:00:00-04:00", Utc("2027-03-14T07:00:00Z")), (transition.Type, transition.Slot, transition.ScheduledAt));

        // Every fired slot started its own execution, which ran with the slot's name.
        var executions = await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflow}&status=completed&limit=50"),
            l => l["items"]!.AsArray().Count == 5, "five completed executions");
        Assert.Equal(q.Concat(d).Select(e => Str(e.Data["execution_id"])).Order(), Ids(executions).Order());
    }

    [Fact]
    public async Task Given_New_York_fall_back_When_the_loop_runs_through_it_Then_the_repeated_hour_fires_once()
    {
        // 2027-11-07: 02:00 EDT (06:00Z) falls back to 01:00 EST; 01:00–01:59 happen twice (05:00–05:59Z and 06:00–06:59Z).
        var clock = new ShiftedClock(Utc("2027-11-07T05:16:00Z")); // 01:16 EDT
        var (host, client, workflow) = await HostWithWorkflowAsync(clock);
        await using var _ = host;
        var quarter = await CreateScheduleAsync(client, workflow, "*/15 * * * *", NewYork);
        var daily = await CreateScheduleAsync(client, workflow, "30 1 * * *", NewYork);
        clock.JumpTo(Utc("2027-11-07T05:29:59Z"));

        await FiredAtLeastAsync(host, quarter, 1); // 01:30 EDT
        await FiredAtLeastAsync(host, daily, 1); // 01:30 EDT, its first pass
        clock.JumpTo(Utc("2027-11-07T05:44:59Z"));
        await FiredAtLeastAsync(host, quarter, 2); // 01:45 EDT

        // The second pass: 01:00, 01:15, 01:30 (also the daily one), 01:45 EST — the loop runs a second past each.
        foreach (var second in new[] { "06:00:01", "06:15:01", "06:30:01", "06:45:01" })
        {
            clock.JumpTo(Utc($"2027-11-07T{second}Z"));
            await Task.Delay(1_500); // fifteen rounds of the loop
        }

        Assert.Equal(2, (await FiredAsync(host, quarter)).Count);
        Assert.Single(await FiredAsync(host, daily));
        // The daily schedule's view: its next run is the next day's 01:30, now in EST.
        var view = (await (await client.GetAsync(Url($"/api/v1/triggers/{daily}"))).JsonAsync())["schedule"]!;
        Assert.Equal(("active", 1L, Utc("2027-11-08T06:30:00Z")), (Str(view["state"]), view["run_count"]!.GetValue<long>(), Time(view["next_run_at"])));
        Assert.InRange(Time(view["last_run_at"]), Utc("2027-11-07T05:30:00Z"), Utc("2027-11-07T05:30:05Z"));
        clock.JumpTo(Utc("2027-11-07T06:59:59Z"));
        await FiredAtLeastAsync(host, quarter, 3); // 02:00 EST
        await DisableAsync(client, quarter);
        await DisableAsync(client, daily);

        var q = await StreamAsync(host, quarter);
        Assert.Equal([ScheduleEventTypes.SlotFired], q.Select(e => e.Type).Distinct()); // the repeated slots were not even counted missed
        Assert.Equal(["2027-11-07T01:30:00-04:00", "2027-11-07T01:45:00-04:00", "2027-11-07T02:00:00-05:00"], q.Select(e => e.Slot));
        Assert.Equal([Utc("2027-11-07T05:30:00Z"), Utc("2027-11-07T05:45:00Z"), Utc("2027-11-07T07:00:00Z")], q.Select(e => e.ScheduledAt));
        var d = Assert.Single(await StreamAsync(host, daily));
        Assert.Equal(("2027-11-07T01:30:00-04:00", Utc("2027-11-07T05:30:00Z")), (d.Slot, d.ScheduledAt));
    }

    [Fact]
    public async Task Given_a_downtime_longer_than_the_catch_up_window_When_a_host_starts_again_Then_slots_in_the_window_fire_in_order_and_older_ones_are_recorded_missed()
    {
        var folder = Path.Combine(Path.GetTempPath(), "tm-e2e", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var store = new Dictionary<string, string?> { ["EventStore:Sqlite:Path"] = Path.Combine(folder, "store.db") };
        var clock = new ShiftedClock(Utc("2030-01-01T00:00:10Z"));
        try
        {
            string trigger, workflow;
            await using (var first = await StartAsync(clock, store))
            {
                var client = await first.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite);
                workflow = await CreateDefinitionAsync(client, SetStep);
                trigger = await CreateScheduleAsync(client, workflow, "* * * * *", catchupWindowSeconds: 150);
                clock.JumpTo(Utc("2030-01-01T00:00:59Z"));
                await FiredAtLeastAsync(first, trigger, 1); // 00:01
            }

            // Down from 00:01 to 00:10:30: nine slots passed (00:02 … 00:10). Within 150 s (+ 5 s of grace): 00:08, 00:09, 00:10.
            clock.JumpTo(Utc("2030-01-01T00:10:30Z"));
            await using var second = await StartAsync(clock, store);
            await FiredAtLeastAsync(second, trigger, 4);
            clock.JumpTo(Utc("2030-01-01T00:10:59Z"));
            await FiredAtLeastAsync(second, trigger, 5); // the cadence goes on: 00:11 on time

            var events = await StreamAsync(second, trigger);
            Assert.Equal(
                [
                    (ScheduleEventTypes.SlotFired, "2030-01-01T00:01:00+00:00"), (ScheduleEventTypes.SlotsMissed, ""),
                    (ScheduleEventTypes.SlotFired, "2030-01-01T00:08:00+00:00"), (ScheduleEventTypes.SlotFired, "2030-01-01T00:09:00+00:00"),
                    (ScheduleEventTypes.SlotFired, "2030-01-01T00:10:00+00:00"), (ScheduleEventTypes.SlotFired, "2030-01-01T00:11:00+00:00"),
                ],
                events.Select(e => (e.Type, e.Type == ScheduleEventTypes.SlotFired ? e.Slot : "")));
            var missed = events[1].Data;
            Assert.Equal(6, missed["count"]!.GetValue<long>()); // 00:02 … 00:07
            Assert.False(missed["count_capped"]!.GetValue<bool>());
            Assert.Equal((Utc("2030-01-01T00:02:00Z"), Utc("2030-01-01T00:07:00Z")), (Time(missed["first_scheduled_at"]), Time(missed["last_scheduled_at"])));
            Assert.Equal(["on_time", "catch_up", "catch_up", "catch_up", "on_time"],
                events.Where(e => e.Type == ScheduleEventTypes.SlotFired).Select(e => e.Kind));

            var client2 = await second.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite);
            await DisableAsync(client2, trigger);
            var executions = await EventuallyAsync(() => ListAsync(client2, $"workflow_id={workflow}&status=completed&limit=50"),
                l => l["items"]!.AsArray().Count == 5, "five completed executions");
            Assert.Equal(events.Where(e => e.Type == ScheduleEventTypes.SlotFired).Select(e => Str(e.Data["execution_id"])).Order(), Ids(executions).Order());
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // a file still held; the temp folder is cleaned by the OS
            }
        }
    }

    [Fact]
    public async Task Given_a_schedule_moved_to_a_zone_behind_When_the_same_wall_clock_time_comes_again_Then_it_is_a_new_slot_with_its_own_execution()
    {
        var clock = new ShiftedClock(Utc("2026-12-03T09:40:00Z"));
        var (host, client, workflow) = await HostWithWorkflowAsync(clock);
        await using var _ = host;
        var trigger = await CreateScheduleAsync(client, workflow, "0 * * * *", "UTC");
        clock.JumpTo(Utc("2026-12-03T09:59:59Z"));
        await FiredAtLeastAsync(host, trigger, 1); // 10:00 UTC

        clock.JumpTo(Utc("2026-12-03T10:30:00Z"));
        var moved = await client.PutAsync(Url($"/api/v1/triggers/{trigger}"), JsonContent.Create(new
        {
            workflow_id = workflow, name = "tick", type = "schedule",
            config = new { cron_expression = "0 * * * *", timezone = NewYork, overlap_policy = "allow_all" },
        }));
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        clock.JumpTo(Utc("2026-12-03T14:59:59Z")); // 10:00 in New York comes at 15:00Z
        var fired = await FiredAtLeastAsync(host, trigger, 2);
        await DisableAsync(client, trigger);

        Assert.Equal(["2026-12-03T10:00:00+00:00", "2026-12-03T10:00:00-05:00"], fired.Select(f => f.Slot));
        var ids = fired.Select(f => Str(f.Data["execution_id"])).ToList();
        Assert.Equal(2, ids.Distinct().Count());
        foreach (var id in ids) await WaitForStatusAsync(client, id, "completed"); // each slot ran its own execution
    }
}
