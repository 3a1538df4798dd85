using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Triggers.Modular.Definitions.Validation;
using static Triggers.Modular.Definitions.Tests.Validation.ValidationFixture;

namespace Triggers.Modular.Definitions.Tests.Validation;

public sealed class LimitsTests
{
    [Fact]
    public void Given_10000_steps_in_a_chain_When_validated_Then_the_step_limit_refuses_it_within_a_second()
    {
        var json = new StringBuilder("""{ "name": "huge", "steps": [""");
        for (var i = 0; i < 10_000; i++)
        {
            if (i > 0) json.Append(',');
            json.Append($$"""{ "id": "s{{i}}", "type": "delay", "config": { "seconds": 1 }{{(i > 0 ? $", \"depends_on\": [\"s{i - 1}\"]" : "")}} }""");
        }

        var document = Parse(json.Append("]}").ToString());
        var stopwatch = Stopwatch.StartNew();
        var failures = Validate(document);
        stopwatch.Stop();

        HasOnlyError(failures, "steps", "at most 200 steps; this one has 10000");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed} (a guard against super-linear work, generous for a shared CI machine)");
    }

    [Fact]
    public void Given_200_steps_When_validated_Then_the_limit_allows_them() =>
        IsValid(Validate(d => d["steps"] = new JsonArray([.. Enumerable.Range(0, DefinitionLimits.MaxSteps).Select(i => (JsonNode)new JsonObject
        {
            ["id"] = $"s{i}", ["type"] = "delay", ["config"] = new JsonObject { ["seconds"] = 1 },
        })])));

    [Fact]
    public void Given_a_config_nested_1000_levels_When_validated_Then_it_is_refused_quickly()
    {
        var nested = new string('[', 1000) + new string(']', 1000);
        var stopwatch = Stopwatch.StartNew();
        var failures = Validate(d => d["steps"]![0]!["config"] = Node($$"""{ "seconds": 1, "deep": {{nested}} }"""));
        HasOnlyError(failures, "steps[0].config", "nests deeper than 32 levels");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed} (a guard against super-linear work, generous for a shared CI machine)");
    }

    [Theory]
    [InlineData(30, true)]
    [InlineData(31, false)]
    public void Given_a_config_at_the_depth_limit_When_validated_Then_32_levels_pass_and_33_do_not(int arrays, bool valid)
    {
        // config (1) > values (2) > arrays
        var failures = Validate(d => d["steps"] = Node($$"""[ { "id": "a", "type": "set", "config": { "values": { "deep": {{new string('[', arrays) + new string(']', arrays)}} } } } ]"""));
        if (valid) IsValid(failures);
        else HasOnlyError(failures, "steps[0].config", "nests deeper than 32 levels");
    }

    [Fact]
    public void Given_a_schema_nested_40_levels_When_validated_Then_it_is_refused() =>
        HasOnlyError(Validate(d => d["trigger"] = Node($$"""{ "type": "event", "event_name": "a.b", "schema": { "x": {{new string('[', 40) + new string(']', 40)}} } }""")),
            "trigger.schema", "nests deeper than 32 levels");

    [Fact]
    public void Given_21_triggers_When_validated_Then_the_trigger_limit_refuses_them() =>
        HasOnlyError(Validate(d =>
        {
            d["trigger"] = Node("""{ "type": "manual" }""");
            d["triggers"] = new JsonArray([.. Enumerable.Range(0, 20).Select(_ => Node("""{ "type": "manual" }"""))]);
        }), "triggers", "at most 20 triggers (trigger and triggers together); this one has 21");
}
