using System.Text.Json.Nodes;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Triggers.Contracts;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Triggers.ScheduleTestApi;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary>
/// Overlap policies end to end (issue 8): a schedule every second whose workflow waits two seconds (a durable delay step),
/// so each run is still going when the next slots come. Each slot is decided exactly once — fired, skipped or buffered —
/// and with <c>skip</c> and <c>buffer_one</c> no two runs of the schedule ever overlap.
/// </summary>
public sealed class ScheduleOverlapTests
{
    private const string SlowSteps = """[ { "id": "wait", "type": "delay", "config": { "seconds": 2 } } ]""";

    private sealed record Run(string Id, DateTimeOffset CreatedAt, DateTimeOffset FinishedAt);

    /// <summary>Runs the schedule until it has fired <paramref name="fired"/> slots, disables it and waits for its runs to end.
    /// <paramref name="twoHosts"/>: two hosts on one PostgreSQL, both deciding every slot (and running executions).</summary>
    private static async Task<(List<ScheduleEvent> Events, List<Run> Runs)> RunAsync(string policy, int fired, bool twoHosts = false, string? steps = null)
    {
        var fast = new Dictionary<string, string?> { ["Triggers:Schedules:PollSeconds"] = twoHosts ? "0.05" : "0.1" };
        await using var host = await ApiHost.StartAsync(twoHosts ? StoreKind.Postgres : StoreKind.Sqlite, fast);
        await using var peer = twoHosts
            ? await ApiHost.StartAsync(StoreKind.Sqlite, new Dictionary<string, string?>(fast)
            {
                ["EventStore:Provider"] = "postgres", ["EventStore:Postgres:ConnectionString"] = host.PostgresConnectionString,
            })
            : null;
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite);
        var workflow = await CreateDefinitionAsync(client, steps ?? SlowSteps);
        var trigger = await CreateScheduleAsync(client, workflow, "* * * * * *", overlap: policy);
        await FiredAtLeastAsync(host, trigger, fired, seconds: 30);
        var events = await DisableAndSettleAsync(client, host, trigger);
        var count = events.Count(e => e.Type == ScheduleEventTypes.SlotFired);
        var list = await EventuallyAsync(() => ListAsync(client, $"workflow_id={workflow}&limit=200"),
            l => l["items"]!.AsArray().Count == count && l["items"]!.AsArray().All(i => Str(i!["status"]) == "completed"),
            $"{count} completed runs", seconds: 30);
        var runs = list["items"]!.AsArray().Select(i => new Run(Str(i!["id"]), Time(i["created_at"]), Time(i["finished_at"])))
            .OrderBy(r => r.CreatedAt).ToList();
        Assert.Equal(events.Where(e => e.Type == ScheduleEventTypes.SlotFired).Select(e => Str(e.Data["execution_id"])).Order(), runs.Select(r => r.Id).Order());
        return (events, runs);
    }

    /// <summary>The cadence slots decided (fired on time, skipped, buffered — a buffered slot's later firing is the same slot):
    /// consecutive seconds, each once.</summary>
    private static void AssertEachSlotDecidedOnce(List<ScheduleEvent> events)
    {
        Assert.DoesNotContain(events, e => e.Type == ScheduleEventTypes.SlotsMissed);
        var decided = events.Where(e => e.Type is ScheduleEventTypes.SlotSkipped or ScheduleEventTypes.SlotBuffered
                                        || (e.Type == ScheduleEventTypes.SlotFired && e.Kind != "buffered"))
            .Select(e => e.ScheduledAt).ToList();
        Assert.Equal(decided.Count, decided.Distinct().Count());
        Assert.Equal(decided.Order(), decided);
        for (var i = 1; i < decided.Count; i++)
            Assert.Equal(TimeSpan.FromSeconds(1), decided[i] - decided[i - 1]);
    }

    private static void AssertRunsNeverOverlap(List<Run> runs)
    {
        for (var i = 1; i < runs.Count; i++)
            Assert.True(runs[i].CreatedAt >= runs[i - 1].FinishedAt,
                $"run {runs[i].Id} started at {runs[i].CreatedAt:O} before {runs[i - 1].Id} finished at {runs[i - 1].FinishedAt:O}");
    }

    [Fact]
    public async Task Given_overlap_skip_When_slots_come_while_the_previous_run_is_going_Then_they_are_recorded_skipped_and_runs_never_overlap()
    {
        var (events, runs) = await RunAsync("skip", 3);

        Assert.Equal([ScheduleEventTypes.SlotFired, ScheduleEventTypes.SlotSkipped], events.Select(e => e.Type).Distinct().Order());
        AssertEachSlotDecidedOnce(events);
        AssertRunsNeverOverlap(runs);
        // Each skipped slot names the run it gave way to: the last one fired before it.
        string? last = null;
        foreach (var e in events)
        {
            if (e.Type == ScheduleEventTypes.SlotFired) last = Str(e.Data["execution_id"]);
            if (e.Type != ScheduleEventTypes.SlotSkipped) continue;
            Assert.Equal(("overlap", last), (Str(e.Data["reason"]), StrOrNull(e.Data["running_execution_id"])));
            // Due while that run was going (the decision read it unfinished after the slot was due; it is recorded a moment later).
            Assert.True(e.ScheduledAt < runs.Single(r => r.Id == last).FinishedAt, e.Data.ToJsonString());
        }
    }

    [Fact]
    public async Task Given_overlap_buffer_one_When_slots_come_while_the_previous_run_is_going_Then_one_waits_and_fires_when_it_ends_and_runs_never_overlap()
    {
        var (events, runs) = await RunAsync("buffer_one", 4);

        Assert.Contains(events, e => e.Type == ScheduleEventTypes.SlotBuffered);
        Assert.Contains(events, e => e.Type == ScheduleEventTypes.SlotSkipped); // a second waiting slot is skipped
        AssertEachSlotDecidedOnce(events);
        AssertRunsNeverOverlap(runs);
        // At most one slot waits at a time, and a waiting slot fires (kind "buffered", the same slot) before another can wait.
        string? waiting = null;
        foreach (var e in events)
        {
            switch (e.Type)
            {
                case ScheduleEventTypes.SlotBuffered:
                    Assert.Null(waiting);
                    waiting = e.Slot;
                    break;
                case ScheduleEventTypes.SlotFired when e.Kind == "buffered":
                    Assert.Equal(waiting, e.Slot);
                    waiting = null;
                    break;
                case ScheduleEventTypes.SlotFired:
                    Assert.Null(waiting); // an on-time slot never jumps a waiting one
                    break;
                case ScheduleEventTypes.SlotSkipped:
                    Assert.NotNull(waiting); // skipped only because one already waits
                    break;
            }
        }

        Assert.Contains(events, e => e.Type == ScheduleEventTypes.SlotFired && e.Kind == "buffered");
    }

    [Fact]
    public async Task Given_overlap_allow_all_When_slots_come_while_the_previous_run_is_going_Then_every_slot_fires_and_runs_overlap()
    {
        var (events, runs) = await RunAsync("allow_all", 4);

        Assert.Equal([ScheduleEventTypes.SlotFired], events.Select(e => e.Type).Distinct());
        AssertEachSlotDecidedOnce(events);
        Assert.Contains(Enumerable.Range(1, runs.Count - 1), i => runs[i].CreatedAt < runs[i - 1].FinishedAt);
    }

    [Fact]
    public async Task Given_two_hosts_racing_for_every_slot_When_policy_is_buffer_one_Then_runs_still_never_overlap()
    {
        // Both hosts see a run end and decide at once; the loser of the append re-decides on the winner's state, where the
        // winner's new run must count as running (its own check was about the older run).
        var (events, runs) = await RunAsync("buffer_one", 8, twoHosts: true, """[ { "id": "wait", "type": "delay", "config": { "seconds": 1 } } ]""");

        AssertEachSlotDecidedOnce(events);
        AssertRunsNeverOverlap(runs);
        Assert.Contains(events, e => e.Type == ScheduleEventTypes.SlotFired && e.Kind == "buffered");
    }
}
