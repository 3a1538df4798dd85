using System.Diagnostics;
using System.Text.Json.Nodes;
using Triggers.Modular.Definitions.Validation;
using static Triggers.Modular.Definitions.Tests.Validation.ValidationFixture;

namespace Triggers.Modular.Definitions.Tests.Validation;

public sealed class DependencyCycleTests
{

    private static JsonArray Steps(params (string Id, string[] DependsOn)[] steps) =>
        new([.. steps.Select(s => (JsonNode)new JsonObject
        {
            ["id"] = s.Id,
            ["type"] = "delay",
            ["config"] = new JsonObject { ["seconds"] = 1 },
            ["depends_on"] = new JsonArray([.. s.DependsOn.Select(d => (JsonNode)d)]),
        })]);

    [Fact]
    public void Given_a_3_cycle_When_validated_Then_the_error_names_the_cycle_on_the_first_steps_depends_on() =>
        HasOnlyError(Validate(d => d["steps"] = Steps(("a", ["b"]), ("b", ["c"]), ("c", ["a"]))),
            "steps[0].depends_on[0]", "dependency cycle: a → b → c → a");

    [Fact]
    public void Given_a_self_dependency_When_validated_Then_the_error_names_it() =>
        HasOnlyError(Validate(d => d["steps"] = Steps(("x", []), ("a", ["x", "a"]))),
            "steps[1].depends_on[1]", "dependency cycle: a → a; a step cannot depend on itself");

    [Fact]
    public void Given_two_separate_cycles_When_validated_Then_both_are_reported()
    {
        var failures = Validate(d => d["steps"] = Steps(("a", ["b"]), ("b", ["a"]), ("ok", ["a"]), ("c", ["d"]), ("d", ["e"]), ("e", ["c"])));
        HasError(failures, "steps[0].depends_on[0]", "dependency cycle: a → b → a");
        HasError(failures, "steps[3].depends_on[0]", "dependency cycle: c → d → e → c");
        Assert.Equal(2, failures.Count);
    }

    [Fact]
    public void Given_a_component_with_more_steps_than_its_shortest_cycle_When_validated_Then_the_others_are_named_too()
    {
        var failures = Validate(d => d["steps"] = Steps(("a", ["b"]), ("b", ["a", "c"]), ("c", ["b"])));
        HasOnlyError(failures, "steps[0].depends_on[0]", "dependency cycle: a → b → a; remove one of these dependencies. Steps 'c' are caught");
    }

    [Fact]
    public void Given_a_diamond_without_cycles_When_validated_Then_it_is_valid() =>
        IsValid(Validate(d => d["steps"] = Steps(("a", []), ("b", ["a"]), ("c", ["a"]), ("d", ["b", "c"]))));

    [Fact]
    public void Given_a_10000_node_chain_When_cycles_are_found_Then_there_are_none_and_the_stack_holds()
    {
        var dependencies = Enumerable.Range(0, 10_000).Select(i => (IReadOnlyList<int>)(i == 0 ? [] : [i - 1])).ToList();
        var stopwatch = Stopwatch.StartNew();
        Assert.Empty(DependencyCycles.Find(dependencies));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed} (a guard against super-linear work, generous for a shared CI machine)");
    }

    [Fact]
    public void Given_a_10000_node_ring_When_cycles_are_found_Then_one_cycle_holds_every_node_in_order()
    {
        var dependencies = Enumerable.Range(0, 10_000).Select(i => (IReadOnlyList<int>)[(i + 1) % 10_000]).ToList();
        var cycle = Assert.Single(DependencyCycles.Find(dependencies));
        Assert.Equal(Enumerable.Range(0, 10_000), cycle.Path);
        Assert.Equal(10_000, cycle.Component.Count);
    }

    [Fact]
    public void Given_a_self_loop_and_a_2_cycle_When_cycles_are_found_Then_each_is_its_own_cycle()
    {
        IReadOnlyList<IReadOnlyList<int>> dependencies = [[0], [2], [1]];
        var cycles = DependencyCycles.Find(dependencies);
        Assert.Equal(2, cycles.Count);
        Assert.Equal([0], cycles[0].Path);
        Assert.Equal([1, 2], cycles[1].Path);
    }
}
