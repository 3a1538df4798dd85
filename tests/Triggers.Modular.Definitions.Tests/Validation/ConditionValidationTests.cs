using static Triggers.Modular.Definitions.Tests.Validation.ValidationFixture;

namespace Triggers.Modular.Definitions.Tests.Validation;

public sealed class ConditionValidationTests
{
    private static void StepCondition(string condition, string path, string fragment) =>
        HasOnlyError(Validate(d => d["steps"]![0]!["condition"] = Node(condition)), path, fragment);

    [Fact]
    public void Given_every_op_used_well_When_validated_Then_the_condition_is_valid() =>
        IsValid(Validate(d => d["steps"]![0]!["condition"] = Node("""
            { "any": [
              { "all": [ { "path": "trigger.plan", "op": "eq", "value": "pro" }, { "path": "trigger.plan", "op": "ne", "value": null } ] },
              { "path": "steps.a.output.items[0].price", "op": "gt", "value": 10 },
              { "path": "trigger.at", "op": "lte", "value": "2026-01-01T00:00:00Z" },
              { "path": "trigger.plan", "op": "in", "value": ["pro", "team"] },
              { "path": "trigger.plan", "op": "not_in", "value": [] },
              { "path": "trigger.tags", "op": "contains", "value": "vip" },
              { "path": "trigger.email", "op": "ends_with", "value": "@example.com" },
              { "path": "trigger.email", "op": "starts_with", "value": "ops" },
              { "path": "trigger.coupon", "op": "exists" },
              { "not": { "path": "trigger.coupon", "op": "not_exists" } },
              { "path": "trigger.email", "op": "matches", "value": "^[a-z]+@example\\.com$" }
            ] }
            """)));

    [Fact]
    public void Given_a_node_with_all_and_path_When_validated_Then_exactly_one_is_required() =>
        StepCondition("""{ "all": [], "path": "x", "op": "eq", "value": 1 }""", "steps[0].condition", "has 'all' and 'path'");

    [Fact]
    public void Given_a_node_with_none_of_all_any_not_path_When_validated_Then_one_is_required() =>
        StepCondition("""{ "op": "eq", "value": 1 }""", "steps[0].condition", "needs one of all, any, not or path");

    [Fact]
    public void Given_an_empty_any_When_validated_Then_a_non_empty_array_is_required() =>
        StepCondition("""{ "any": [] }""", "steps[0].condition.any", "non-empty array");

    [Fact]
    public void Given_not_with_an_array_When_validated_Then_one_condition_object_is_required() =>
        StepCondition("""{ "not": [] }""", "steps[0].condition.not", "takes one condition object");

    [Fact]
    public void Given_a_composite_node_with_an_extra_field_When_validated_Then_the_field_is_refused() =>
        StepCondition("""{ "all": [ { "path": "x", "op": "exists" } ], "op": "eq" }""", "steps[0].condition.op", "not used in a condition with 'all'");

    [Fact]
    public void Given_a_leaf_with_an_unknown_field_When_validated_Then_the_field_is_refused() =>
        StepCondition("""{ "path": "x", "op": "exists", "vaule": 1 }""", "steps[0].condition.vaule", "unknown field 'vaule'");

    [Fact]
    public void Given_a_condition_that_is_not_an_object_When_validated_Then_the_shape_is_explained() =>
        StepCondition("""{ "all": [ "x == 1" ] }""", "steps[0].condition.all[0]", "a condition must be an object");

    [Theory]
    [InlineData("payload..plan")]
    [InlineData("payload.plan[x]")]
    [InlineData("$.payload")]
    [InlineData("payload plan")]
    public void Given_a_malformed_path_When_validated_Then_the_path_is_refused(string path) =>
        StepCondition($$"""{ "path": "{{path}}", "op": "exists" }""", "steps[0].condition.path", "is not a valid path");

    [Fact]
    public void Given_a_missing_op_When_validated_Then_op_is_required_and_ops_are_listed() =>
        StepCondition("""{ "path": "x", "value": 1 }""", "steps[0].condition.op", "op is required; allowed ops: eq, ne, gt");

    [Fact]
    public void Given_the_old_op_neq_When_validated_Then_it_is_unknown_and_ne_is_listed() =>
        StepCondition("""{ "path": "x", "op": "neq", "value": 1 }""", "steps[0].condition.op", "unknown op 'neq'; allowed ops: eq, ne, gt");

    [Fact]
    public void Given_a_missing_value_When_validated_Then_value_is_required() =>
        StepCondition("""{ "path": "x", "op": "eq" }""", "steps[0].condition.value", "value is required with op 'eq'");

    [Fact]
    public void Given_exists_with_a_value_When_validated_Then_the_value_is_refused() =>
        StepCondition("""{ "path": "x", "op": "exists", "value": true }""", "steps[0].condition.value", "not used with op 'exists'");

    [Fact]
    public void Given_in_with_a_scalar_When_validated_Then_an_array_is_required() =>
        StepCondition("""{ "path": "x", "op": "in", "value": "pro" }""", "steps[0].condition.value", "needs an array value");

    [Fact]
    public void Given_gt_with_an_object_When_validated_Then_a_number_or_string_is_required() =>
        StepCondition("""{ "path": "x", "op": "gt", "value": {} }""", "steps[0].condition.value", "number or a string");

    [Fact]
    public void Given_matches_with_a_broken_regex_When_validated_Then_the_regex_error_is_reported() =>
        StepCondition("""{ "path": "x", "op": "matches", "value": "([a-z" }""", "steps[0].condition.value", "does not compile");

    [Fact]
    public void Given_conditions_nested_17_levels_When_validated_Then_the_depth_is_refused()
    {
        var condition = string.Concat(Enumerable.Repeat("""{ "not": """, 16)) + """{ "path": "x", "op": "exists" }""" + new string('}', 16);
        StepCondition(condition, "steps[0].condition" + string.Concat(Enumerable.Repeat(".not", 16)), "deeper than 16 levels");
    }

    [Fact]
    public void Given_conditions_nested_16_levels_When_validated_Then_they_are_valid()
    {
        var condition = string.Concat(Enumerable.Repeat("""{ "not": """, 15)) + """{ "path": "x", "op": "exists" }""" + new string('}', 15);
        IsValid(Validate(d => d["steps"]![0]!["condition"] = Node(condition)));
    }

    [Fact]
    public void Given_trigger_conditions_that_are_not_an_array_When_validated_Then_an_array_is_required() =>
        HasOnlyError(Validate(d => d["trigger"] = Node("""{ "type": "event", "event_name": "a.b", "conditions": { "path": "x", "op": "exists" } }""")),
            "trigger.conditions", "must be an array");

    [Fact]
    public void Given_a_bad_trigger_condition_When_validated_Then_its_path_is_indexed() =>
        HasOnlyError(Validate(d => d["triggers"] = Node("""[ { "type": "event", "event_name": "a.b", "conditions": [ { "path": "x", "op": "exists" }, { "path": "y", "op": "in", "value": 1 } ] } ]""")),
            "triggers[0].conditions[1].value", "needs an array value");
}
