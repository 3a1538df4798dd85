using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Triggers.Modular.Executions.Contracts.Conditions;

namespace Triggers.Modular.Executions.Tests.Conditions;

public sealed class ConditionEvaluatorTests
{
    private static readonly JsonElement Root = Json("""
        {
          "payload": {
            "plan": "pro", "amount": 201.0, "count": 3, "tags": ["a", "b"], "email": "ann@example.com", "nothing": null,
            "created_at": "2030-01-31T10:00:00+01:00", "profile": { "name": "Ann", "age": 30 }, "label": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"
          },
          "steps": { "a": { "output": { "status": 500, "items": [ { "name": "first" }, { "name": "second" } ] } } }
        }
        """);

    private static JsonElement Json(string json, int maxDepth = 64)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = maxDepth });
        return document.RootElement.Clone();
    }

    private static bool Eval(string condition) => ConditionEvaluator.Evaluate(Json(condition), Root);

    [Theory]
    [InlineData("""{ "path": "payload.plan", "op": "eq", "value": "pro" }""", true)]
    [InlineData("""{ "path": "payload.plan", "op": "eq", "value": "Pro" }""", false)]
    [InlineData("""{ "path": "payload.amount", "op": "eq", "value": 201 }""", true)]
    [InlineData("""{ "path": "steps.a.output.status", "op": "eq", "value": 500.0 }""", true)]
    [InlineData("""{ "path": "steps.a.output.status", "op": "eq", "value": 5e2 }""", true)]
    [InlineData("""{ "path": "steps.a.output.status", "op": "eq", "value": 201 }""", false)]
    [InlineData("""{ "path": "payload.count", "op": "eq", "value": "3" }""", false)]
    [InlineData("""{ "path": "payload.profile", "op": "eq", "value": { "age": 30, "name": "Ann" } }""", true)]
    [InlineData("""{ "path": "payload.profile", "op": "eq", "value": { "age": 31, "name": "Ann" } }""", false)]
    [InlineData("""{ "path": "payload.tags", "op": "eq", "value": ["a", "b"] }""", true)]
    [InlineData("""{ "path": "payload.tags", "op": "eq", "value": ["b", "a"] }""", false)]
    [InlineData("""{ "path": "payload.nothing", "op": "eq", "value": null }""", true)]
    [InlineData("""{ "path": "payload.plan", "op": "ne", "value": "free" }""", true)]
    [InlineData("""{ "path": "payload.plan", "op": "ne", "value": "pro" }""", false)]
    [InlineData("""{ "path": "payload.amount", "op": "ne", "value": 201 }""", false)]
    public void Given_an_equality_leaf_When_evaluated_Then_values_compare_structurally(string condition, bool expected) =>
        Assert.Equal(expected, Eval(condition));

    [Theory]
    [InlineData("""{ "path": "payload.amount", "op": "gt", "value": 200 }""", true)]
    [InlineData("""{ "path": "payload.amount", "op": "gt", "value": 201 }""", false)]
    [InlineData("""{ "path": "payload.amount", "op": "gte", "value": 201 }""", true)]
    [InlineData("""{ "path": "payload.amount", "op": "gte", "value": 201.5 }""", false)]
    [InlineData("""{ "path": "payload.count", "op": "lt", "value": 3 }""", false)]
    [InlineData("""{ "path": "payload.count", "op": "lt", "value": 10 }""", true)]
    [InlineData("""{ "path": "payload.count", "op": "lte", "value": 3 }""", true)]
    [InlineData("""{ "path": "payload.count", "op": "lte", "value": 2.99 }""", false)]
    [InlineData("""{ "path": "payload.plan", "op": "gt", "value": "free" }""", true)]
    [InlineData("""{ "path": "payload.plan", "op": "lt", "value": "free" }""", false)]
    [InlineData("""{ "path": "payload.count", "op": "gt", "value": "2" }""", false)]
    [InlineData("""{ "path": "payload.plan", "op": "lt", "value": 5 }""", false)]
    [InlineData("""{ "path": "payload.tags", "op": "gte", "value": 1 }""", false)]
    public void Given_an_ordering_leaf_When_evaluated_Then_numbers_and_strings_order_and_mixed_types_do_not(string condition, bool expected) =>
        Assert.Equal(expected, Eval(condition));

    [Theory]
    // 10:00+01:00 is 09:00Z: before 09:30Z as instants, although "2030-01-31T10…" sorts after "2030-01-31T09…" as text.
    [InlineData("gt", "2030-01-31T09:30:00Z", false)]
    [InlineData("lt", "2030-01-31T09:30:00Z", true)]
    [InlineData("gt", "2030-01-31T08:59:59.5Z", true)]
    [InlineData("gte", "2030-01-31T09:00:00Z", true)]
    [InlineData("lte", "2030-01-31T04:00:00-05:00", true)]
    [InlineData("lt", "2030-01-31T04:00:00-05:00", false)]
    public void Given_two_date_times_with_offsets_When_ordered_Then_they_compare_as_instants(string op, string value, bool expected) =>
        Assert.Equal(expected, Eval($$"""{ "path": "payload.created_at", "op": "{{op}}", "value": "{{value}}" }"""));

    [Theory]
    [InlineData("""{ "path": "payload.plan", "op": "in", "value": ["free", "pro"] }""", true)]
    [InlineData("""{ "path": "payload.plan", "op": "in", "value": ["free", "team"] }""", false)]
    [InlineData("""{ "path": "payload.amount", "op": "in", "value": [100, 201] }""", true)]
    [InlineData("""{ "path": "payload.tags", "op": "in", "value": [["a", "b"], ["c"]] }""", true)]
    [InlineData("""{ "path": "payload.plan", "op": "not_in", "value": ["free", "team"] }""", true)]
    [InlineData("""{ "path": "payload.plan", "op": "not_in", "value": ["free", "pro"] }""", false)]
    [InlineData("""{ "path": "payload.plan", "op": "in", "value": "pro" }""", false)]
    [InlineData("""{ "path": "payload.email", "op": "contains", "value": "@example" }""", true)]
    [InlineData("""{ "path": "payload.email", "op": "contains", "value": "@EXAMPLE" }""", false)]
    [InlineData("""{ "path": "payload.tags", "op": "contains", "value": "a" }""", true)]
    [InlineData("""{ "path": "payload.tags", "op": "contains", "value": "c" }""", false)]
    [InlineData("""{ "path": "payload.count", "op": "contains", "value": 3 }""", false)]
    [InlineData("""{ "path": "payload.email", "op": "starts_with", "value": "ann@" }""", true)]
    [InlineData("""{ "path": "payload.email", "op": "starts_with", "value": "bob@" }""", false)]
    [InlineData("""{ "path": "payload.email", "op": "ends_with", "value": ".com" }""", true)]
    [InlineData("""{ "path": "payload.email", "op": "ends_with", "value": ".org" }""", false)]
    [InlineData("""{ "path": "payload.count", "op": "starts_with", "value": "3" }""", false)]
    [InlineData("""{ "path": "payload.email", "op": "matches", "value": "^[a-z]+@example\\.com$" }""", true)]
    [InlineData("""{ "path": "payload.email", "op": "matches", "value": "^bob" }""", false)]
    [InlineData("""{ "path": "payload.count", "op": "matches", "value": "3" }""", false)]
    [InlineData("""{ "path": "payload.email", "op": "matches", "value": "([a-z" }""", false)]
    public void Given_a_membership_or_text_leaf_When_evaluated_Then_it_follows_the_op(string condition, bool expected) =>
        Assert.Equal(expected, Eval(condition));

    [Theory]
    [InlineData("payload.plan", "exists", true)]
    [InlineData("payload.plan", "not_exists", false)]
    [InlineData("payload.missing", "exists", false)]
    [InlineData("payload.missing", "not_exists", true)]
    [InlineData("payload.nothing", "exists", true)]
    [InlineData("steps.a.output.items[1]", "exists", true)]
    [InlineData("steps.a.output.items[2]", "exists", false)]
    [InlineData("steps.a.output.items.0", "exists", true)]
    [InlineData("steps.a.output.status.code", "exists", false)]
    [InlineData("payload.tags.first", "exists", false)]
    [InlineData("payload..plan", "exists", false)]
    [InlineData("payload.plan[", "exists", false)]
    public void Given_an_existence_leaf_When_evaluated_Then_it_reports_whether_the_path_leads_to_a_value(string path, string op, bool expected) =>
        Assert.Equal(expected, Eval($$"""{ "path": "{{path}}", "op": "{{op}}" }"""));

    [Theory]
    [InlineData("steps.a.output.items[0].name", "first")]
    [InlineData("steps.a.output.items[1].name", "second")]
    [InlineData("steps.a.output.items.1.name", "second")]
    public void Given_a_path_through_arrays_When_evaluated_Then_indices_and_numeric_segments_select_elements(string path, string name)
    {
        Assert.True(Eval($$"""{ "path": "{{path}}", "op": "eq", "value": "{{name}}" }"""));
        Assert.False(Eval($$"""{ "path": "{{path}}", "op": "eq", "value": "other" }"""));
    }

    [Theory]
    [InlineData("eq", "\"x\"")]
    [InlineData("ne", "\"x\"")]
    [InlineData("gt", "0")]
    [InlineData("lt", "0")]
    [InlineData("in", "[\"x\"]")]
    [InlineData("not_in", "[\"x\"]")]
    [InlineData("contains", "\"x\"")]
    [InlineData("starts_with", "\"x\"")]
    [InlineData("ends_with", "\"x\"")]
    [InlineData("matches", "\".*\"")]
    public void Given_a_missing_path_When_any_comparing_op_is_evaluated_Then_it_is_false(string op, string value) =>
        Assert.False(Eval($$"""{ "path": "payload.missing", "op": "{{op}}", "value": {{value}} }"""));

    [Theory]
    [InlineData("""{ "all": [ { "path": "payload.plan", "op": "eq", "value": "pro" }, { "path": "payload.count", "op": "gt", "value": 2 } ] }""", true)]
    [InlineData("""{ "all": [ { "path": "payload.plan", "op": "eq", "value": "pro" }, { "path": "payload.count", "op": "gt", "value": 3 } ] }""", false)]
    [InlineData("""{ "any": [ { "path": "payload.plan", "op": "eq", "value": "free" }, { "path": "payload.count", "op": "gt", "value": 2 } ] }""", true)]
    [InlineData("""{ "any": [ { "path": "payload.plan", "op": "eq", "value": "free" }, { "path": "payload.count", "op": "gt", "value": 3 } ] }""", false)]
    [InlineData("""{ "not": { "path": "payload.plan", "op": "eq", "value": "free" } }""", true)]
    [InlineData("""{ "not": { "path": "payload.plan", "op": "eq", "value": "pro" } }""", false)]
    [InlineData("""{ "all": [ { "any": [ { "path": "payload.missing", "op": "exists" }, { "not": { "path": "payload.tags", "op": "contains", "value": "z" } } ] }, { "path": "steps.a.output.status", "op": "gte", "value": 500 } ] }""", true)]
    [InlineData("""{ "all": [ { "any": [ { "path": "payload.missing", "op": "exists" }, { "not": { "path": "payload.tags", "op": "contains", "value": "a" } } ] }, { "path": "steps.a.output.status", "op": "gte", "value": 500 } ] }""", false)]
    [InlineData("""{ "all": [] }""", true)]
    [InlineData("""{ "any": [] }""", false)]
    public void Given_a_nested_condition_When_evaluated_Then_all_any_and_not_combine(string condition, bool expected) =>
        Assert.Equal(expected, Eval(condition));

    [Theory]
    [InlineData("""[ 1, 2 ]""")]
    [InlineData("""{ "path": "payload.plan", "op": "equals", "value": "pro" }""")]
    [InlineData("""{ "path": "payload.plan", "op": "eq" }""")]
    [InlineData("""{ "path": 5, "op": "exists" }""")]
    [InlineData("""{ "all": { "path": "payload.plan", "op": "exists" } }""")]
    [InlineData("""{ "whatever": true }""")]
    public void Given_a_malformed_condition_When_evaluated_Then_it_does_not_hold_and_does_not_throw(string condition)
    {
        Assert.False(Eval(condition));
        Assert.False(string.IsNullOrEmpty(ConditionEvaluator.Explain(Json(condition), Root).Reason));
    }

    [Theory]
    [InlineData("""{ "not": { "path": "payload.label", "op": "matches", "value": "(a+)+$" } }""")]
    [InlineData("""{ "not": { "path": "payload.email", "op": "matches", "value": "([a-z" } }""")]
    [InlineData("""{ "not": { "path": "payload.plan", "op": "in", "value": "pro" } }""")]
    [InlineData("""{ "not": { "path": "payload.plan", "op": "equals", "value": "pro" } }""")]
    [InlineData("""{ "not": { "all": [ { "path": "payload.plan", "op": "eq", "value": "pro" }, [ "not a condition" ] ] } }""")]
    [InlineData("""{ "any": [ { "path": "payload.plan", "op": "eq", "value": "free" }, { "not": { "whatever": 1 } } ] }""")]
    public void Given_a_condition_that_cannot_be_evaluated_under_not_When_evaluated_Then_the_whole_condition_does_not_hold(string condition)
    {
        var result = ConditionEvaluator.Explain(Json(condition), Root);

        Assert.False(Eval(condition));
        Assert.False(result.Holds);
        Assert.DoesNotContain("it held", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(64, true)]
    [InlineData(63, false)]
    public void Given_a_condition_nested_64_levels_When_evaluated_Then_it_is_evaluated_to_the_leaf(int nots, bool expected)
    {
        // An even number of "not"s around a true leaf holds; an odd number does not.
        var condition = Json(Nest("""{ "path": "payload.plan", "op": "eq", "value": "pro" }""", nots, """{ "not": """, " }"), maxDepth: 256);

        Assert.Equal(expected, ConditionEvaluator.Evaluate(condition, Root));
    }

    [Fact]
    public void Given_all_and_any_nested_64_levels_When_evaluated_Then_the_leaf_decides()
    {
        // 32 pairs of all + any: 64 levels of nesting, the most a definition allows.
        var holds = Json(Nest("""{ "path": "payload.count", "op": "eq", "value": 3 }""", 32, """{ "all": [ { "any": [""", "] } ] }"), maxDepth: 512);
        var fails = Json(Nest("""{ "path": "payload.count", "op": "eq", "value": 4 }""", 32, """{ "all": [ { "any": [""", "] } ] }"), maxDepth: 512);

        Assert.True(ConditionEvaluator.Evaluate(holds, Root));
        Assert.False(ConditionEvaluator.Evaluate(fails, Root));
        Assert.Equal("payload.count eq 4: was 3", ConditionEvaluator.Explain(fails, Root).Reason);
    }

    [Fact]
    public void Given_a_condition_deeper_than_the_limit_When_evaluated_Then_it_does_not_hold_and_says_why()
    {
        var condition = Json(Nest("""{ "path": "payload.plan", "op": "eq", "value": "pro" }""", 2_000, """{ "not": """, " }"), maxDepth: 4_096);

        var result = ConditionEvaluator.Explain(condition, Root);

        Assert.False(result.Holds);
        Assert.Contains($"deeper than {ConditionEvaluator.MaxDepth} levels", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_a_catastrophic_regex_When_evaluated_Then_it_is_false_within_the_timeout_and_explain_says_it_timed_out()
    {
        var condition = Json("""{ "path": "payload.label", "op": "matches", "value": "(a+)+$" }""");
        var clock = Stopwatch.StartNew();

        var holds = ConditionEvaluator.Evaluate(condition, Root);
        var result = ConditionEvaluator.Explain(condition, Root);

        Assert.False(holds);
        Assert.False(result.Holds);
        Assert.Contains("timed out", result.Reason, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Given_a_failing_leaf_When_explained_Then_the_reason_names_the_path_op_value_and_actual()
    {
        var result = ConditionEvaluator.Explain(Json("""{ "path": "steps.a.output.status", "op": "eq", "value": 201 }"""), Root);

        Assert.False(result.Holds);
        Assert.Equal("steps.a.output.status eq 201: was 500", result.Reason);
    }

    [Theory]
    [InlineData("""{ "path": "steps.b.output.status", "op": "eq", "value": 201 }""", "steps.b.output.status eq 201: was missing")]
    [InlineData("""{ "path": "payload.plan", "op": "not_exists" }""", "payload.plan not_exists: was \"pro\"")]
    [InlineData("""{ "path": "payload.plan", "op": "exists" }""", null)]
    [InlineData("""{ "all": [ { "path": "payload.plan", "op": "eq", "value": "pro" }, { "path": "payload.tags", "op": "contains", "value": "z" } ] }""", "payload.tags contains \"z\": was [\"a\", \"b\"]")]
    [InlineData("""{ "any": [ { "path": "payload.plan", "op": "eq", "value": "free" }, { "path": "payload.count", "op": "gt", "value": 5 } ] }""", "none held: payload.plan eq \"free\": was \"pro\"; payload.count gt 5: was 3")]
    [InlineData("""{ "not": { "path": "payload.plan", "op": "eq", "value": "pro" } }""", "not (payload.plan eq \"pro\"): it held")]
    [InlineData("""{ "path": "payload.plan", "op": "in", "value": "pro" }""", "payload.plan in \"pro\": the value is not an array")]
    [InlineData("""{ "path": "payload.email", "op": "matches", "value": "([a-z" }""", "payload.email matches \"([a-z\": the regular expression does not compile")]
    public void Given_a_condition_When_explained_Then_the_reason_says_what_failed(string condition, string? reason)
    {
        var result = ConditionEvaluator.Explain(Json(condition), Root);

        Assert.Equal(reason is null, result.Holds);
        Assert.Equal(reason, result.Reason);
    }

    [Fact]
    public void Given_a_long_actual_value_When_explained_Then_the_reason_is_clipped()
    {
        var root = Json($$"""{ "payload": { "text": "{{new string('x', 500)}}" } }""");

        var result = ConditionEvaluator.Explain(Json("""{ "path": "payload.text", "op": "eq", "value": "y" }"""), root);

        Assert.False(result.Holds);
        Assert.EndsWith("…", result.Reason, StringComparison.Ordinal);
        Assert.True(result.Reason!.Length < 150, result.Reason);
    }

    [Theory]
    [InlineData("[]", true)]
    [InlineData("""[ { "path": "payload.plan", "op": "eq", "value": "pro" }, { "path": "payload.count", "op": "eq", "value": 3 } ]""", true)]
    [InlineData("""[ { "path": "payload.plan", "op": "eq", "value": "pro" }, { "path": "payload.count", "op": "eq", "value": 4 } ]""", false)]
    [InlineData("""{ "path": "payload.plan", "op": "eq", "value": "pro" }""", false)]
    [InlineData("null", true)]
    public void Given_a_conditions_array_When_evaluated_Then_every_condition_must_hold(string conditions, bool expected)
    {
        Assert.Equal(expected, ConditionEvaluator.EvaluateAll(Json(conditions), Root));
        Assert.Equal(expected, ConditionEvaluator.ExplainAll(Json(conditions), Root).Holds);
    }

    [Fact]
    public void Given_no_conditions_at_all_When_evaluated_Then_they_hold() =>
        Assert.True(ConditionEvaluator.EvaluateAll(default, Root));

    [Fact]
    public void Given_conditions_with_a_failing_one_When_explained_Then_the_reason_is_the_failing_one()
    {
        var conditions = Json("""[ { "path": "payload.plan", "op": "eq", "value": "pro" }, { "path": "payload.count", "op": "eq", "value": 4 } ]""");

        Assert.Equal("payload.count eq 4: was 3", ConditionEvaluator.ExplainAll(conditions, Root).Reason);
    }

    [Fact]
    public void Given_a_trigger_style_root_When_evaluated_Then_payload_paths_resolve() =>
        Assert.True(ConditionEvaluator.Evaluate(
            Json("""{ "path": "payload.plan", "op": "eq", "value": "pro" }"""),
            Json("""{ "name": "customer.created", "payload": { "plan": "pro" } }""")));

    private static string Nest(string leaf, int levels, string open, string close)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < levels; i++)
            builder.Append(open);
        builder.Append(leaf);
        for (var i = 0; i < levels; i++)
            builder.Append(close);
        return builder.ToString();
    }
}
