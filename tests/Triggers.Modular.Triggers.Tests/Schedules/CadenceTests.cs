using System.Text.Json;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.Triggers.Contracts;
using Triggers.Modular.Triggers.Domain;

namespace Triggers.Modular.Triggers.Tests.Schedules;

/// <summary>When a schedule's cadence restarts (ADR 0015): at creation, enabling, or a change of expression or zone — not at
/// a rename or another workflow, overlap policy or window, which would otherwise drop a due slot without a record.</summary>
public sealed class CadenceTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);

    private static JsonElement Config(string cron, string? zone = null, string overlap = "skip", int window = 0) =>
        JsonSerializer.SerializeToElement(new Dictionary<string, object?>
        {
            ["cron_expression"] = cron, ["timezone"] = zone, ["overlap_policy"] = overlap, ["catchup_window_seconds"] = window,
        });

    private static TriggerState Fold(params IEvent[] events) => events.Aggregate(TriggerState.Initial, TriggerDecider.Instance.Evolve);

    private static TriggerState Created() => Fold(new TriggerCreated("trg_1", "acme", "dev", "wf_1", "tick", "schedule", true, Config("* * * * *"), "api", T0));

    private static TriggerState Then(TriggerState state, IEvent e) => TriggerDecider.Instance.Evolve(state, e);

    [Fact]
    public void Given_a_created_schedule_Then_its_cadence_begins_at_creation() => Assert.Equal(T0, Created().CadenceSince);

    [Fact]
    public void Given_a_rename_another_workflow_policy_or_window_Then_the_cadence_goes_on()
    {
        var state = Then(Created(), new TriggerUpdated("trg_1", "acme", "dev", "wf_2", "renamed", true, Config("* * * * *", "UTC", "allow_all", 600),
            T0.AddMinutes(5)));
        Assert.Equal((T0, T0.AddMinutes(5)), (state.CadenceSince, state.UpdatedAt));
    }

    [Theory]
    [InlineData("*/5 * * * *", null)]
    [InlineData("* * * * *", "Europe/Paris")]
    public void Given_a_new_expression_or_zone_Then_the_cadence_restarts(string cron, string? zone)
    {
        var state = Then(Created(), new TriggerUpdated("trg_1", "acme", "dev", "wf_1", "tick", true, Config(cron, zone), T0.AddMinutes(5)));
        Assert.Equal(T0.AddMinutes(5), state.CadenceSince);
    }

    [Fact]
    public void Given_a_disabled_schedule_When_enabled_or_updated_to_enabled_Then_the_cadence_restarts_and_disabling_keeps_it()
    {
        var disabled = Then(Created(), new TriggerDisabled("trg_1", "acme", "dev", T0.AddMinutes(1)));
        Assert.Equal(T0, disabled.CadenceSince);
        Assert.Equal(T0.AddMinutes(2), Then(disabled, new TriggerEnabled("trg_1", "acme", "dev", T0.AddMinutes(2))).CadenceSince);
        Assert.Equal(T0.AddMinutes(3), Then(disabled, new TriggerUpdated("trg_1", "acme", "dev", "wf_1", "tick", true, Config("* * * * *"), T0.AddMinutes(3)))
            .CadenceSince);
    }
}
