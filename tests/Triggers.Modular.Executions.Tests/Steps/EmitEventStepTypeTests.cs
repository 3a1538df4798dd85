using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.Contracts.Steps.BuiltIn;

namespace Triggers.Modular.Executions.Tests.Steps;

public sealed class EmitEventStepTypeTests
{
    private readonly EmitEventStepType _emit = new();

    [Theory]
    [InlineData("""{ "name": "customer.onboarded" }""")]
    [InlineData("""{ "name": "billing.plan_assigned.v2", "payload": { "id": "{{ trigger.customer_id }}", "tags": ["{{ x }}"] } }""")]
    [InlineData("""{ "name": "ping", "payload": 42 }""")]
    public void Given_a_valid_config_When_validated_Then_there_are_no_errors(string json) => Config.Valid(_emit, json);

    [Theory]
    [InlineData("\"Customer.Created\"")]
    [InlineData("\"customer..created\"")]
    [InlineData("\"customer.created.\"")]
    [InlineData("\"1customer\"")]
    [InlineData("\"customer created\"")]
    [InlineData("\"\"")]
    [InlineData("7")]
    public void Given_an_invalid_name_When_validated_Then_name_explains_the_syntax(string name)
    {
        var error = Config.Single(_emit, $$"""{ "name": {{name}} }""");

        Assert.Equal("name", error.Path);
        Assert.Contains("not a valid event name", error.Message, StringComparison.Ordinal);
        Assert.Contains("lower-case", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_an_name_over_200_characters_When_validated_Then_it_is_refused()
    {
        var error = Config.Single(_emit, $$"""{ "name": "{{new string('a', 201)}}" }""");

        Assert.Equal("name", error.Path);
    }

    [Fact]
    public void Given_a_broken_template_in_the_payload_When_validated_Then_the_path_reaches_it()
    {
        var error = Config.Single(_emit, """{ "name": "a.b", "payload": { "items": [{ "sku": "{{ x | }}" }] } }""");

        Assert.Equal("payload.items[0].sku", error.Path);
    }

    [Fact]
    public void Given_event_name_instead_of_the_spec_name_key_When_validated_Then_the_unknown_key_and_the_missing_name_are_reported()
    {
        var errors = _emit.Validate(Config.Parse("""{ "event_name": "a.b" }"""));

        Assert.Equal(["event_name", "name"], errors.Select(e => e.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Given_no_config_When_validated_Then_the_empty_path_says_name_is_expected()
    {
        var error = Assert.Single(_emit.Validate(Config.Missing));

        Assert.Equal("", error.Path);
        Assert.Contains("\"name\"", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("customer.created", true)]
    [InlineData("a", true)]
    [InlineData("a_1.b_2", true)]
    [InlineData("a.", false)]
    [InlineData(".a", false)]
    [InlineData("a-b", false)]
    [InlineData(null, false)]
    public void Given_a_name_When_EventNames_checks_it_Then_the_shared_syntax_applies(string? name, bool valid) =>
        Assert.Equal(valid, EventNames.IsValid(name));
}
