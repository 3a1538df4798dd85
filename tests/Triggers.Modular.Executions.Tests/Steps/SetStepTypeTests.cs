using Triggers.Modular.Executions.Contracts.Steps.BuiltIn;

namespace Triggers.Modular.Executions.Tests.Steps;

public sealed class SetStepTypeTests
{
    private readonly SetStepType _set = new();

    [Theory]
    [InlineData("""{ "values": { "name": "{{ trigger.first_name }} {{ trigger.last_name }}" } }""")]
    [InlineData("""{ "values": { "count": 3, "flags": [true, "{{ trigger.flag }}"], "_nested": { "a": null } } }""")]
    public void Given_a_valid_config_When_validated_Then_there_are_no_errors(string json) => Config.Valid(_set, json);

    [Theory]
    [InlineData("""{ "values": {} }""", "an empty object")]
    [InlineData("""{ "values": [1] }""", "an array")]
    [InlineData("""{ "values": "x" }""", "\"x\"")]
    public void Given_values_that_are_not_a_non_empty_object_When_validated_Then_values_says_so(string json, string got)
    {
        var error = Config.Single(_set, json);

        Assert.Equal("values", error.Path);
        Assert.Contains("at least one entry", error.Message, StringComparison.Ordinal);
        Assert.Contains(got, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_no_values_When_validated_Then_values_is_required()
    {
        var error = Config.Single(_set, "{}");

        Assert.Equal("values", error.Path);
        Assert.Contains("required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_a_broken_template_in_a_nested_value_When_validated_Then_the_path_reaches_it()
    {
        var error = Config.Single(_set, """{ "values": { "name": "ok", "list": ["{{ a }}", { "x": "{{ trigger. }}" }] } }""");

        Assert.Equal("values.list[1].x", error.Path);
        Assert.StartsWith("The Liquid template does not parse: ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("first.name", "values[\"first.name\"]")]
    [InlineData("1st", "values.1st")]
    public void Given_a_value_name_that_cannot_be_an_output_When_validated_Then_the_path_names_it(string name, string path)
    {
        var error = Config.Single(_set, $$"""{ "values": { "{{name}}": 1 } }""");

        Assert.Equal(path, error.Path);
        Assert.Contains("cannot be an output name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_an_unknown_key_When_validated_Then_the_error_names_the_key()
    {
        var error = Config.Single(_set, """{ "values": { "a": 1 }, "value": 2 }""");

        Assert.Equal("value", error.Path);
        Assert.Contains("Unknown key \"value\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_no_config_When_validated_Then_the_empty_path_says_values_are_expected()
    {
        var error = Assert.Single(_set.Validate(Config.Missing));

        Assert.Equal("", error.Path);
        Assert.Contains("\"values\"", error.Message, StringComparison.Ordinal);
    }
}
