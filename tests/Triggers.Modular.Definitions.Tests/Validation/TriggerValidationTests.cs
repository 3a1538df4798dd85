using static Triggers.Modular.Definitions.Tests.Validation.ValidationFixture;

namespace Triggers.Modular.Definitions.Tests.Validation;

public sealed class TriggerValidationTests
{
    private static void Trigger(string trigger, string path, string fragment) =>
        HasOnlyError(Validate(d => d["trigger"] = Node(trigger)), path, fragment);

    private static void ValidTrigger(string trigger) => IsValid(Validate(d => d["trigger"] = Node(trigger)));

    [Fact]
    public void Given_a_trigger_without_type_When_validated_Then_type_is_required() =>
        Trigger("""{ "event_name": "a.b" }""", "trigger.type", "type is required; one of event, webhook, schedule, manual, api");

    [Fact]
    public void Given_an_unknown_trigger_type_When_validated_Then_the_types_are_listed() =>
        HasOnlyError(Validate(d => d["triggers"] = Node("""[ { "type": "manual" }, { "type": "cron" } ]""")), "triggers[1].type", "unknown trigger type 'cron'");

    [Fact]
    public void Given_a_null_entry_in_triggers_When_validated_Then_a_trigger_object_is_required() =>
        HasOnlyError(Validate(d => d["triggers"] = Node("""[ null ]""")), "triggers[0]", "a trigger object is required");

    [Fact]
    public void Given_an_event_trigger_without_event_name_When_validated_Then_event_name_is_required() =>
        Trigger("""{ "type": "event" }""", "trigger.event_name", "event_name is required");

    [Theory]
    [InlineData("Customer.Created")]
    [InlineData("customer..created")]
    [InlineData("customer.created.")]
    [InlineData("1customer")]
    [InlineData("customer-created")]
    public void Given_a_malformed_event_name_When_validated_Then_the_syntax_is_explained(string name) =>
        Trigger($$"""{ "type": "event", "event_name": "{{name}}" }""", "trigger.event_name", "is not a valid event name");

    [Fact]
    public void Given_a_201_character_event_name_When_validated_Then_it_is_refused() =>
        Trigger($$"""{ "type": "event", "event_name": "{{new string('e', 201)}}" }""", "trigger.event_name", "at most 200 characters");

    [Fact]
    public void Given_a_schema_with_an_unknown_type_When_validated_Then_the_njsonschema_error_is_reported() =>
        Trigger("""{ "type": "event", "event_name": "a.b", "schema": { "type": "object", "properties": { "id": { "type": "objekt" } } } }""",
            "trigger.schema", "'type' at #/properties/id/type must be one of null, boolean");

    [Theory]
    [InlineData("""{ "type": "string", "pattern": "(" }""", "'pattern' at #/pattern is not a usable regular expression")]
    [InlineData("""{ "type": "string", "minLength": -1 }""", "'minLength' at #/minLength must be a non-negative integer")]
    [InlineData("""{ "type": "object", "patternProperties": { "[": { "type": "string" } } }""", "'patternProperties' key '['")]
    [InlineData("""{ "dependencies": { "a": { "$ref": "http://169.254.169.254/x" } } }""", "points outside the schema")]
    public void Given_a_schema_with_a_broken_pattern_a_negative_bound_or_a_remote_ref_in_dependencies_When_validated_Then_it_is_refused(
        string schema, string fragment) =>
        Trigger($$"""{ "type": "event", "event_name": "a.b", "schema": {{schema}} }""", "trigger.schema", fragment);

    [Fact]
    public void Given_a_schema_with_required_not_an_array_When_validated_Then_the_njsonschema_error_is_reported() =>
        Trigger("""{ "type": "event", "event_name": "a.b", "schema": { "required": "customer_id" } }""", "trigger.schema", "schema is not a valid JSON Schema: Error converting value");

    [Fact]
    public void Given_a_schema_with_a_dangling_local_reference_When_validated_Then_it_is_refused() =>
        Trigger("""{ "type": "event", "event_name": "a.b", "schema": { "$ref": "#/definitions/missing" } }""", "trigger.schema", "schema is not a valid JSON Schema");

    [Fact]
    public void Given_a_schema_referencing_a_url_When_validated_Then_it_is_refused_without_fetching() =>
        Trigger("""{ "type": "event", "event_name": "a.b", "schema": { "$ref": "http://169.254.169.254/latest/meta-data" } }""", "trigger.schema", "only local references");

    [Fact]
    public void Given_a_schema_that_is_a_string_When_validated_Then_an_object_or_boolean_is_required() =>
        Trigger("""{ "type": "event", "event_name": "a.b", "schema": "object" }""", "trigger.schema", "schema must be a JSON Schema");

    [Theory]
    [InlineData("true")]
    [InlineData("""{ "type": "object", "properties": { "id": { "$ref": "#/definitions/id" } }, "definitions": { "id": { "type": "string" } } }""")]
    public void Given_a_valid_schema_When_validated_Then_it_is_accepted(string schema) =>
        ValidTrigger($$"""{ "type": "event", "event_name": "a.b", "schema": {{schema}} }""");

    [Theory]
    [InlineData("*/15 * * * *")]
    [InlineData("0 9 * * MON-FRI")]
    [InlineData("*/10 * * * * *")]
    [InlineData("0 0 29 2 *")]
    [InlineData("0 0 30 2 1")] // standard cron: the 30th of February (never) OR any Monday in February — fires
    public void Given_a_valid_cron_When_validated_Then_it_is_accepted(string cron) =>
        ValidTrigger($$"""{ "type": "schedule", "cron_expression": "{{cron}}", "timezone": "America/New_York", "overlap_policy": "buffer_one", "catchup_window_seconds": 600 }""");

    [Fact]
    public void Given_a_schedule_without_cron_When_validated_Then_cron_is_required() =>
        Trigger("""{ "type": "schedule" }""", "trigger.cron_expression", "cron_expression is required");

    [Fact]
    public void Given_minute_60_When_validated_Then_the_cron_is_invalid() =>
        Trigger("""{ "type": "schedule", "cron_expression": "60 * * * *" }""", "trigger.cron_expression", "'60 * * * *' is invalid");

    [Theory]
    [InlineData("* * * *", 4)]
    [InlineData("0 0 0 * * * *", 7)]
    public void Given_a_wrong_field_count_When_validated_Then_the_count_is_explained(string cron, int fields) =>
        Trigger($$"""{ "type": "schedule", "cron_expression": "{{cron}}" }""", "trigger.cron_expression", $"has {fields} field(s); use 5");

    [Fact]
    public void Given_february_30_When_validated_Then_the_cron_never_fires() =>
        Trigger("""{ "type": "schedule", "cron_expression": "0 0 30 2 *" }""", "trigger.cron_expression", "never fires");

    [Theory]
    [InlineData("Mars/Olympus_Mons")]
    [InlineData("")]
    public void Given_an_unknown_time_zone_When_validated_Then_an_iana_id_is_asked_for(string zone) =>
        Trigger($$"""{ "type": "schedule", "cron_expression": "0 * * * *", "timezone": "{{zone}}" }""", "trigger.timezone", "use an IANA time zone id");

    [Fact]
    public void Given_an_unknown_overlap_policy_When_validated_Then_the_policies_are_listed() =>
        Trigger("""{ "type": "schedule", "cron_expression": "0 * * * *", "overlap_policy": "queue" }""", "trigger.overlap_policy", "one of skip, buffer_one, allow_all");

    [Fact]
    public void Given_a_catchup_window_over_7_days_When_validated_Then_it_is_refused() =>
        Trigger("""{ "type": "schedule", "cron_expression": "0 * * * *", "catchup_window_seconds": 604801 }""", "trigger.catchup_window_seconds", "between 0 and 604800");

    [Fact]
    public void Given_a_fully_configured_webhook_When_validated_Then_it_is_valid() =>
        ValidTrigger("""
            { "type": "webhook", "method": "PUT", "response_format": "text", "auth_type": "hmac", "hmac_scheme": "github",
              "allowed_origins": ["*", "https://app.example.com", "http://localhost:3000"] }
            """);

    [Theory]
    [InlineData("""{ "type": "webhook" }""")]
    [InlineData("""{ "type": "webhook", "method": "ANY" }""")]
    [InlineData("""{ "type": "webhook", "auth_type": "none" }""")]
    [InlineData("""{ "type": "webhook", "auth_type": "bearer" }""")]
    [InlineData("""{ "type": "webhook", "auth_type": "api_key" }""")]
    [InlineData("""{ "type": "webhook", "auth_type": "api_key", "api_key_header": "X-Api-Key" }""")]
    [InlineData("""{ "type": "webhook", "auth_type": "hmac", "hmac_scheme": "standard" }""")]
    [InlineData("""{ "type": "webhook", "auth_type": "hmac", "hmac_scheme": "plain" }""")]
    public void Given_a_webhook_using_the_spec_fields_When_validated_Then_it_is_valid(string trigger) => ValidTrigger(trigger);

    [Theory]
    [InlineData("FETCH")]
    [InlineData("post")]
    public void Given_an_unknown_method_When_validated_Then_the_methods_are_listed(string method) =>
        Trigger($$"""{ "type": "webhook", "method": "{{method}}" }""", "trigger.method",
            $"unknown method '{method}'; one of GET, POST, PUT, PATCH, DELETE, ANY (default POST)");

    [Fact]
    public void Given_an_unknown_auth_type_When_validated_Then_the_auth_types_are_listed() =>
        Trigger("""{ "type": "webhook", "auth_type": "basic" }""", "trigger.auth_type",
            "unknown auth_type 'basic'; one of none, api_key, bearer, hmac (default none)");

    [Fact]
    public void Given_hmac_without_hmac_scheme_When_validated_Then_hmac_scheme_is_required() =>
        Trigger("""{ "type": "webhook", "auth_type": "hmac" }""", "trigger.hmac_scheme",
            "hmac_scheme is required with auth_type hmac; one of standard, github, plain");

    [Fact]
    public void Given_an_unknown_hmac_scheme_When_validated_Then_the_schemes_are_listed() =>
        Trigger("""{ "type": "webhook", "auth_type": "hmac", "hmac_scheme": "standard_webhooks" }""", "trigger.hmac_scheme",
            "unknown hmac_scheme 'standard_webhooks'; one of standard, github, plain");

    [Theory]
    [InlineData(""" "auth_type": "bearer", """)]
    [InlineData(""" "auth_type": "none", """)]
    [InlineData("")]
    public void Given_an_hmac_scheme_without_hmac_auth_When_validated_Then_it_is_refused(string auth) =>
        Trigger($$"""{ "type": "webhook", {{auth}} "hmac_scheme": "github" }""", "trigger.hmac_scheme",
            "hmac_scheme is only used with auth_type hmac");

    [Theory]
    [InlineData("X Api Key")]
    [InlineData("")]
    [InlineData("X-Api-Key:")]
    public void Given_an_api_key_header_that_is_not_a_header_token_When_validated_Then_the_header_name_is_refused(string header) =>
        Trigger($$"""{ "type": "webhook", "auth_type": "api_key", "api_key_header": "{{header}}" }""", "trigger.api_key_header",
            $"'{header}' is not a valid header name");

    [Theory]
    [InlineData(""" "auth_type": "none", """)]
    [InlineData(""" "auth_type": "bearer", """)]
    [InlineData(""" "auth_type": "hmac", "hmac_scheme": "github", """)]
    [InlineData("")]
    public void Given_an_api_key_header_without_api_key_auth_When_validated_Then_it_is_refused(string auth) =>
        Trigger($$"""{ "type": "webhook", {{auth}} "api_key_header": "X-Api-Key" }""", "trigger.api_key_header",
            "api_key_header is only used with auth_type api_key");

    [Theory]
    [InlineData("https://app.example.com/")]
    [InlineData("https://app.example.com/path")]
    [InlineData("ftp://app.example.com")]
    [InlineData("app.example.com")]
    [InlineData("https://user@app.example.com")]
    public void Given_an_origin_that_is_not_scheme_host_port_When_validated_Then_it_is_refused(string origin) =>
        Trigger($$"""{ "type": "webhook", "allowed_origins": ["https://ok.example.com:8443", "{{origin}}"] }""", "trigger.allowed_origins[1]", "is not an origin");

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("6000001")]
    public void Given_a_rate_limit_out_of_range_When_validated_Then_it_is_refused(string limit) =>
        Trigger($$"""{ "type": "webhook", "rate_limit_per_minute": {{limit}} }""", "trigger.rate_limit_per_minute", "must be 1 to 6,000,000");

    [Fact]
    public void Given_a_rate_limit_on_an_event_trigger_When_validated_Then_it_belongs_to_webhooks() =>
        Trigger("""{ "type": "event", "event_name": "a.b", "rate_limit_per_minute": 10 }""", "trigger.rate_limit_per_minute", "belongs to 'webhook' triggers");

    [Fact]
    public void Given_a_webhook_with_a_rate_limit_When_validated_Then_it_is_valid() =>
        ValidTrigger("""{ "type": "webhook", "rate_limit_per_minute": 6000000 }""");

    [Fact]
    public void Given_an_unknown_response_format_When_validated_Then_the_formats_are_listed() =>
        Trigger("""{ "type": "webhook", "response_format": "xml" }""", "trigger.response_format", "one of json, text");

    [Theory]
    [InlineData("manual", "event_name", "\"a.b\"")]
    [InlineData("api", "cron_expression", "\"* * * * *\"")]
    [InlineData("event", "method", "\"POST\"")]
    [InlineData("schedule", "auth_type", "\"bearer\"")]
    [InlineData("manual", "hmac_scheme", "\"github\"")]
    [InlineData("api", "api_key_header", "\"X-Api-Key\"")]
    public void Given_a_field_of_another_trigger_type_When_validated_Then_it_is_not_used(string type, string field, string value)
    {
        var extra = type switch
        {
            "event" => """, "event_name": "a.b" """,
            "schedule" => """, "cron_expression": "0 * * * *" """,
            _ => "",
        };
        Trigger($$"""{ "type": "{{type}}", "{{field}}": {{value}}{{extra}} }""", $"trigger.{field}", "not used by this trigger type");
    }

    [Fact]
    public void Given_method_on_an_event_trigger_When_validated_Then_it_belongs_to_webhook_triggers() =>
        Trigger("""{ "type": "event", "event_name": "a.b", "method": "POST" }""", "trigger.method",
            "'method' is not used by this trigger type (event); it belongs to 'webhook' triggers");
}
