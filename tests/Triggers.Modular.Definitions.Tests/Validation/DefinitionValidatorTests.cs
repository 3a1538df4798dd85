using System.Text.Json.Nodes;
using static Triggers.Modular.Definitions.Tests.Validation.ValidationFixture;

namespace Triggers.Modular.Definitions.Tests.Validation;

public sealed class DefinitionValidatorTests
{
    private const string SpecExample = """
        {
          "name": "Customer Onboarding - Standard",
          "description": "Onboards a new customer.",
          "trigger":  { "type": "event", "event_name": "customer.created",
                        "conditions": [ { "path": "payload.plan", "op": "eq", "value": "pro" } ],
                        "schema": { "type": "object", "required": ["customer_id"] } },
          "triggers": [ { "type": "schedule", "cron_expression": "*/15 * * * *", "timezone": "Europe/Berlin" },
                        { "type": "webhook", "method": "POST", "auth_type": "hmac", "hmac_scheme": "standard",
                          "allowed_origins": ["https://app.example.com"] },
                        { "type": "manual" } ],
          "steps": [
            { "id": "assign_plan", "order": 1, "type": "http", "name": "Assign plan",
              "config": { "method": "POST", "url": "https://billing.example.com/plans",
                          "body": { "customer": "{{ trigger.customer_id }}" } },
              "retry_policy": { "max_attempts": 5 } },
            { "id": "welcome", "order": 2, "type": "http", "depends_on": ["assign_plan"],
              "condition": { "all": [ { "path": "steps.assign_plan.output.status", "op": "eq", "value": 201 } ] },
              "config": { "method": "POST", "url": "https://mail.example.com/welcome" } }
          ],
          "enabled": true,
          "retry_policy": { "max_attempts": 3, "initial_interval_seconds": 1, "backoff_coefficient": 2.0, "max_interval_seconds": 60 },
          "timeout_seconds": 3600
        }
        """;

    [Fact]
    public void Given_the_spec_example_When_validated_Then_it_is_valid() => IsValid(Validate(Parse(SpecExample)));

    [Fact]
    public void Given_no_name_When_validated_Then_name_is_required() =>
        HasOnlyError(Validate(d => d.Remove("name")), "name", "name is required");

    [Fact]
    public void Given_a_201_character_name_When_validated_Then_name_is_too_long() =>
        HasOnlyError(Validate(d => d["name"] = new string('n', 201)), "name", "at most 200");

    [Fact]
    public void Given_a_2001_character_description_When_validated_Then_description_is_too_long() =>
        HasOnlyError(Validate(d => d["description"] = new string('d', 2001)), "description", "at most 2000");

    [Fact]
    public void Given_no_steps_When_validated_Then_steps_are_required() =>
        HasOnlyError(Validate(d => d["steps"] = new JsonArray()), "steps", "steps is required");

    [Fact]
    public void Given_a_null_step_When_validated_Then_the_step_is_required() =>
        HasOnlyError(Validate(d => d["steps"]!.AsArray().Add(null)), "steps[1]", "a step object is required");

    [Fact]
    public void Given_a_step_without_id_When_validated_Then_id_is_required() =>
        HasOnlyError(Validate(d => d["steps"]![0]!.AsObject().Remove("id")), "steps[0].id", "id is required");

    [Theory]
    [InlineData("Assign")]
    [InlineData("1st")]
    [InlineData("has-dash")]
    [InlineData("a2345678901234567890123456789012345678901234567890123456789012345")]
    public void Given_a_malformed_step_id_When_validated_Then_the_id_is_refused(string id) =>
        HasOnlyError(Validate(d => d["steps"]![0]!["id"] = id), "steps[0].id", "is not a valid step id");

    [Fact]
    public void Given_a_duplicate_step_id_When_validated_Then_the_duplicate_names_the_first_index() =>
        HasOnlyError(Validate(d =>
        {
            d["steps"]!.AsArray().Add(Node("""{ "id": "b", "type": "delay", "config": { "seconds": 1 } }"""));
            d["steps"]!.AsArray().Add(Node("""{ "id": "a", "type": "delay", "config": { "seconds": 1 } }"""));
        }), "steps[2].id", "duplicate step id 'a': already used by steps[0]");

    [Fact]
    public void Given_a_step_without_type_When_validated_Then_type_is_required_and_known_types_are_listed() =>
        HasOnlyError(Validate(d => d["steps"]![0]!.AsObject().Remove("type")), "steps[0].type", "type is required; known types: delay, emit_event, http, set");

    [Fact]
    public void Given_an_unknown_step_type_When_validated_Then_the_known_types_are_listed() =>
        HasOnlyError(Validate(d => d["steps"]![0]!["type"] = "htp"), "steps[0].type", "unknown step type 'htp'; known types: delay, emit_event, http, set");

    [Fact]
    public void Given_an_invalid_step_config_When_validated_Then_the_step_types_path_is_prefixed() =>
        HasOnlyError(Validate(d => d["steps"]!.AsArray().Add(Node("""{ "id": "call", "type": "http", "config": { "url": "relative/path" } }"""))),
            "steps[1].config.url", "\"url\" must");

    [Fact]
    public void Given_a_step_config_error_on_the_config_itself_When_validated_Then_the_path_is_the_config() =>
        HasOnlyError(Validate(d => d["steps"]!.AsArray().Add(Node("""{ "id": "call", "type": "http", "config": [1] }"""))),
            "steps[1].config", "needs a config object");

    [Fact]
    public void Given_a_negative_order_When_validated_Then_order_is_refused() =>
        HasOnlyError(Validate(d => d["steps"]![0]!["order"] = -1), "steps[0].order", "0 or greater");

    [Fact]
    public void Given_a_201_character_step_name_When_validated_Then_the_name_is_refused() =>
        HasOnlyError(Validate(d => d["steps"]![0]!["name"] = new string('n', 201)), "steps[0].name", "longer than 200");

    [Fact]
    public void Given_depends_on_an_unknown_step_When_validated_Then_the_entry_is_refused() =>
        HasOnlyError(Validate(d => d["steps"]![0]!["depends_on"] = new JsonArray("ghost")), "steps[0].depends_on[0]", "'ghost', which is not a step id");

    [Fact]
    public void Given_a_dependency_listed_twice_When_validated_Then_the_duplicate_is_refused() =>
        HasOnlyError(Validate(d =>
        {
            d["steps"]!.AsArray().Add(Node("""{ "id": "b", "type": "delay", "depends_on": ["a", "a"], "config": { "seconds": 1 } }"""));
        }), "steps[1].depends_on[1]", "listed twice");

    [Fact]
    public void Given_orders_on_all_steps_and_a_dependency_with_a_higher_order_When_validated_Then_the_dependency_is_inconsistent()
    {
        var failures = Validate(d =>
        {
            d["steps"]![0]!["order"] = 2;
            d["steps"]!.AsArray().Add(Node("""{ "id": "b", "order": 2, "type": "delay", "depends_on": ["a"], "config": { "seconds": 1 } }"""));
        });
        HasOnlyError(failures, "steps[1].depends_on[0]", "depends on 'a' (order 2); a dependency must have a lower order");
    }

    [Fact]
    public void Given_orders_on_some_steps_only_When_a_step_depends_on_an_earlier_one_Then_it_is_valid() =>
        IsValid(Validate(d =>
        {
            d["steps"]!.AsArray().Add(Node("""{ "id": "b", "order": 5, "type": "delay", "depends_on": ["a"], "config": { "seconds": 1 } }"""));
        }));

    // A step without depends_on waits for every step with a lower order (its position when it has none): here 'a' (order 5)
    // waits for 'b' (position 2), which depends on 'a'.
    [Fact]
    public void Given_orders_on_some_steps_only_When_a_step_depends_on_one_that_implicitly_waits_for_it_Then_the_dependency_is_refused() =>
        HasOnlyError(Validate(d =>
        {
            d["steps"]![0]!["order"] = 5;
            d["steps"]!.AsArray().Add(Node("""{ "id": "b", "type": "delay", "depends_on": ["a"], "config": { "seconds": 1 } }"""));
        }), "steps[1].depends_on[0]", "can never be met");

    [Fact]
    public void Given_a_step_condition_When_validated_Then_it_is_checked_with_its_path() =>
        HasOnlyError(Validate(d => d["steps"]![0]!["condition"] = Node("""{ "all": [ { "path": "x", "op": "eq", "value": 1 }, { "path": "y", "op": "like", "value": 1 } ] }""")),
            "steps[0].condition.all[1].op", "unknown op 'like'");

    [Theory]
    [InlineData("max_attempts", "0", "max_attempts must be between 1 and 100")]
    [InlineData("max_attempts", "101", "max_attempts must be between 1 and 100")]
    [InlineData("initial_interval_seconds", "0.05", "initial_interval_seconds must be between 0.1 and 3600")]
    [InlineData("initial_interval_seconds", "3601", "initial_interval_seconds must be between 0.1 and 3600")]
    [InlineData("backoff_coefficient", "0.5", "backoff_coefficient must be between 1.0 and 10")]
    [InlineData("backoff_coefficient", "10.5", "backoff_coefficient must be between 1.0 and 10")]
    [InlineData("max_interval_seconds", "86401", "at most 86400")]
    public void Given_a_retry_policy_out_of_bounds_When_validated_Then_the_field_is_refused(string field, string value, string fragment) =>
        HasOnlyError(Validate(d => d["retry_policy"] = Node($$"""{ "{{field}}": {{value}} }""")), $"retry_policy.{field}", fragment);

    [Fact]
    public void Given_max_interval_below_initial_interval_When_validated_Then_max_interval_is_refused() =>
        HasOnlyError(Validate(d => d["retry_policy"] = Node("""{ "initial_interval_seconds": 10, "max_interval_seconds": 5 }""")),
            "retry_policy.max_interval_seconds", "at least initial_interval_seconds (10)");

    [Fact]
    public void Given_a_long_non_retryable_error_on_a_step_When_validated_Then_the_entry_is_refused() =>
        HasOnlyError(Validate(d => d["steps"]![0]!["retry_policy"] = Node($$"""{ "non_retryable_errors": ["ok", "{{new string('e', 101)}}"] }""")),
            "steps[0].retry_policy.non_retryable_errors[1]", "1 to 100 characters");

    [Theory]
    [InlineData(0)]
    [InlineData(604_801)]
    public void Given_a_definition_timeout_out_of_bounds_When_validated_Then_timeout_is_refused(int timeout) =>
        HasOnlyError(Validate(d => d["timeout_seconds"] = timeout), "timeout_seconds", "between 1 and 604800");

    [Fact]
    public void Given_a_step_timeout_above_the_definitions_When_validated_Then_the_step_timeout_is_refused() =>
        HasOnlyError(Validate(d =>
        {
            d["timeout_seconds"] = 60;
            d["steps"]![0]!["timeout_seconds"] = 61;
        }), "steps[0].timeout_seconds", "may not exceed the definition's timeout_seconds (60)");
}
