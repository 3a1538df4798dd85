using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Triggers.Contracts;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;
using static Triggers.Modular.EndToEnd.Tests.Triggers.ScheduleTestApi;
using static Triggers.Modular.EndToEnd.Tests.Support.PrometheusScrape;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary>The schedule metrics (issue 8) reach the Prometheus scrape: slots fired by kind, skipped by overlap, missed, and
/// the fire lag.</summary>
public sealed class ScheduleMetricsTests
{
    // Meter "Triggers.Modular.Triggers" → the exporter's prefix.
    private const string Fired = "triggers_modular_triggers_schedule_slots_fired";
    private const string Skipped = "triggers_modular_triggers_schedule_slots_skipped";
    private const string Missed = "triggers_modular_triggers_schedule_slots_missed";
    private const string Lag = "triggers_modular_triggers_schedule_fire_lag";

    [Fact]
    public async Task Given_a_schedule_that_fires_skips_misses_and_runs_now_When_metrics_are_scraped_Then_each_count_and_the_lag_grew()
    {
        var clock = new ShiftedClock(DateTimeOffset.UtcNow);
        await using var host = await ApiHost.StartAsync(StoreKind.Sqlite, new() { ["Triggers:Schedules:PollSeconds"] = "0.1" },
            services => services.AddSingleton<TimeProvider>(clock));
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);
        var anonymous = host.Anonymous();
        var workflow = await CreateDefinitionAsync(client, """[ { "id": "wait", "type": "delay", "config": { "seconds": 3 } } ]""");
        var before = await anonymous.GetStringAsync(Url("/metrics"));

        var trigger = await CreateScheduleAsync(client, workflow, "* * * * * *", overlap: "skip");
        await EventuallyAsync(() => StreamAsync(host, trigger), s => s.Any(e => e.Type == ScheduleEventTypes.SlotSkipped), "a slot skipped by overlap");
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync(Url($"/api/v1/triggers/{trigger}/run"), null)).StatusCode);
        clock.JumpTo(clock.GetUtcNow().AddSeconds(30)); // as if the host had been down for 30 s: older than the 5 s of grace → missed
        var missed = (await EventuallyAsync(() => StreamAsync(host, trigger), s => s.Any(e => e.Type == ScheduleEventTypes.SlotsMissed), "missed slots"))
            .First(e => e.Type == ScheduleEventTypes.SlotsMissed).Data["count"]!.GetValue<long>();
        await DisableAsync(client, trigger);
        var after = await anonymous.GetStringAsync(Url("/metrics"));

        // Other tests of this process record too (the meter is shared): at least this test's slots are counted.
        Assert.True(Delta(before, after, Fired, "kind=\"on_time\"") >= 1, after);
        Assert.True(Delta(before, after, Fired, "kind=\"run_now\"") >= 1, after);
        Assert.True(Delta(before, after, Skipped, "") >= 1, after);
        Assert.True(missed >= 20, $"{missed} missed");
        Assert.True(Delta(before, after, Missed, "") >= missed, after);
        Assert.True(Delta(before, after, Lag, "", "_count") >= 1, after);
    }
}
