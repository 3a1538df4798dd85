using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Xunit.Abstractions;
using static Triggers.Modular.EndToEnd.Tests.Runtime.ExecutionsApi;

namespace Triggers.Modular.EndToEnd.Tests.Runtime;

/// <summary>
/// A schedule survives <c>kill -9</c> (issue 8): the real host runs as its own process with a schedule firing every second
/// (catch-up window 60 s); it is killed, stays down for a few seconds, and is restarted on the same store. Every second from
/// the first slot to the last then fired exactly once — the slots of the downtime late, as catch-up — and each slot started
/// exactly one execution.
/// </summary>
public sealed class ScheduleCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private ProcessStore? _store;
    private HostProcess? _host;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            _host.Dispose();
            output.WriteLine($"--- host output (tail) ---\n{_host.OutputTail()}");
        }

        if (_store is not null) await _store.DisposeAsync();
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_a_schedule_every_second_When_the_host_is_killed_and_restarted_Then_every_slot_fired_once_the_downtime_as_catch_up(StoreKind store)
    {
        _store = await ProcessStore.CreateAsync(store, "tm-e2e-schedule-crash");
        var environment = _store.Environment(new()
        {
            ["Executions__Runtime__PollIntervalSeconds"] = "0.2",
            ["Triggers__Schedules__PollSeconds"] = "0.2",
            ["Triggers__Schedules__GraceSeconds"] = "1",
        });
        _host = await HostProcess.StartAsync(environment);
        var token = _host.FirstRunToken ?? throw new InvalidOperationException("No first-run key was printed:\n" + _host.Output);
        string triggerId;
        using (var client = _host.Client(token))
        {
            var workflow = await CreateDefinitionAsync(client, """
                { "name": "Schedule crash", "steps": [ { "id": "s", "type": "set", "config": { "values": { "slot": "{{ trigger.slot }}" } } } ] }
                """);
            var body = new JsonObject
            {
                ["workflow_id"] = workflow, ["name"] = "every second", ["type"] = "schedule",
                ["config"] = new JsonObject { ["cron_expression"] = "* * * * * *", ["overlap_policy"] = "allow_all", ["catchup_window_seconds"] = 60 },
            };
            using var created = await client.PostAsync(new Uri("/api/v1/triggers", UriKind.Relative), new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
            var answer = await created.Content.ReadAsStringAsync();
            Assert.True(created.StatusCode == HttpStatusCode.Created, answer);
            triggerId = JsonNode.Parse(answer)!["id"]!.GetValue<string>();
            await WaitUntilAsync(async () => (await FiredAsync()).Count >= 2, TimeSpan.FromSeconds(30),
                () => Task.FromResult("the schedule never fired\n" + _host.Output), pollMs: 100);
        }

        _host.Kill();
        var killedAt = DateTimeOffset.UtcNow;
        var atKill = await FiredAsync();
        await Task.Delay(TimeSpan.FromSeconds(3));
        _host.Dispose();
        var restartedAt = DateTimeOffset.UtcNow;
        _host = await HostProcess.StartAsync(environment);
        await WaitUntilAsync(async () => (await FiredAsync()).Any(f => f.Kind == "on_time" && f.ScheduledAt > DateTimeOffset.UtcNow.AddSeconds(-2)),
            TimeSpan.FromSeconds(60), () => Task.FromResult("no slot fired on time after the restart\n" + _host.Output), pollMs: 200);
        // Stop the schedule (so that what is counted below is final) and let the fired slots' executions start.
        using (var client = _host.Client(token))
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(new Uri($"/api/v1/triggers/{triggerId}/disable", UriKind.Relative), null)).StatusCode);
        await Task.Delay(500); // a round under way finishes
        var fired = await FiredAsync();
        await WaitUntilAsync(async () => (await _store.StartedExecutionsAsync()).Count >= fired.Count, TimeSpan.FromSeconds(30),
            async () => $"{(await _store.StartedExecutionsAsync()).Count} of {fired.Count} executions started\n{_host.Output}", pollMs: 200);

        output.WriteLine($"{store}: {atKill.Count} slots fired before the kill, {fired.Count} in all, {fired.Count(f => f.Kind == "catch_up")} as catch-up");
        Assert.Equal(fired.Count, fired.Select(f => f.Slot).Distinct().Count());
        var seconds = fired.Select(f => f.ScheduledAt).Order().ToList();
        Assert.All(seconds.Zip(seconds.Skip(1)), p => Assert.Equal(TimeSpan.FromSeconds(1), p.Second - p.First)); // no second missing
        // The slots due while no host ran fired after the restart (the first of them late enough to be marked catch-up).
        var downtime = fired.Where(f => f.ScheduledAt > killedAt && f.ScheduledAt < restartedAt).ToList();
        Assert.True(downtime.Count >= 2, $"{downtime.Count} slots of the downtime fired");
        Assert.All(downtime, f => Assert.True(f.FiredAt >= restartedAt, $"slot {f.Slot} fired at {f.FiredAt:O}, before the restart"));
        Assert.Equal("catch_up", downtime.MinBy(f => f.ScheduledAt)!.Kind); // ≥ 3 s late: past the 1 s grace
        Assert.All(downtime, f => Assert.DoesNotContain(atKill, a => a.Slot == f.Slot));
        var started = await _store.StartedExecutionsAsync();
        Assert.Equal(fired.Select(f => f.ExecutionId).Order(), started.Keys.Order());
        Assert.All(started.Values, n => Assert.Equal(1, n));
    }

    private sealed record Fired(string Slot, DateTimeOffset ScheduledAt, string Kind, string ExecutionId, DateTimeOffset FiredAt);

    private async Task<List<Fired>> FiredAsync()
    {
        await using var c = await _store!.OpenAsync();
        try
        {
            var rows = await c.QueryAsync<string>($"SELECT data FROM {_store.Events} WHERE type = 'triggers.schedule_slot_fired'");
            return [.. rows.Select(r => JsonNode.Parse(r)).Select(d => new Fired(d!["slot"]!.GetValue<string>(),
                DateTimeOffset.Parse(d["scheduled_at"]!.GetValue<string>(), CultureInfo.InvariantCulture), d["kind"]!.GetValue<string>(),
                d["execution_id"]!.GetValue<string>(), DateTimeOffset.Parse(d["at"]!.GetValue<string>(), CultureInfo.InvariantCulture)))];
        }
        catch (DbException)
        {
            return []; // not migrated yet
        }
    }
}
