using Triggers.Modular.Executions.Contracts.Steps.BuiltIn;

namespace Triggers.Modular.Executions.Tests.Steps;

public sealed class DelayStepTypeTests
{
    private readonly DelayStepType _delay = new();

    [Theory]
    [InlineData("""{ "seconds": 30 }""")]
    [InlineData("""{ "seconds": 1 }""")]
    [InlineData("""{ "seconds": 31536000 }""")]
    [InlineData("""{ "until": "2030-01-31T09:00:00Z" }""")]
    [InlineData("""{ "until": "2030-01-31T09:00:00.125+02:00" }""")]
    [InlineData("""{ "until": "{{ trigger.remind_at }}" }""")]
    public void Given_a_valid_config_When_validated_Then_there_are_no_errors(string json) => Config.Valid(_delay, json);

    [Fact]
    public void Given_both_seconds_and_until_When_validated_Then_the_config_path_says_only_one()
    {
        var error = Config.Single(_delay, """{ "seconds": 30, "until": "2030-01-31T09:00:00Z" }""");

        Assert.Equal("", error.Path);
        Assert.Contains("not both", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_neither_seconds_nor_until_When_validated_Then_the_config_path_asks_for_one()
    {
        var error = Config.Single(_delay, "{}");

        Assert.Equal("", error.Path);
        Assert.Contains("\"seconds\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"until\"", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("31536001")]
    [InlineData("-5")]
    [InlineData("2.5")]
    public void Given_seconds_out_of_bounds_When_validated_Then_seconds_states_the_range(string seconds)
    {
        var error = Config.Single(_delay, $$"""{ "seconds": {{seconds}} }""");

        Assert.Equal("seconds", error.Path);
        Assert.Contains("from 1 to 31,536,000", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"tomorrow\"")]
    [InlineData("\"2030-01-31\"")]
    [InlineData("\"2030-01-31T09:00:00\"")]
    [InlineData("\"2030-13-31T09:00:00Z\"")]
    [InlineData("42")]
    public void Given_until_that_is_not_a_date_time_When_validated_Then_until_shows_an_example(string until)
    {
        var error = Config.Single(_delay, $$"""{ "until": {{until}} }""");

        Assert.Equal("until", error.Path);
        Assert.Contains("ISO-8601", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_until_with_a_broken_template_When_validated_Then_until_reports_the_parser_error()
    {
        var error = Config.Single(_delay, """{ "until": "{{ trigger.at | date: }}" }""");

        Assert.Equal("until", error.Path);
        Assert.StartsWith("The Liquid template does not parse: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_an_unknown_key_When_validated_Then_the_error_names_the_key()
    {
        var error = Config.Single(_delay, """{ "seconds": 5, "minutes": 1 }""");

        Assert.Equal("minutes", error.Path);
        Assert.Contains("Unknown key \"minutes\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_a_number_instead_of_an_object_When_validated_Then_the_empty_path_shows_the_shape()
    {
        var error = Config.Single(_delay, "30");

        Assert.Equal("", error.Path);
        Assert.Contains("{ \"seconds\": 30 }", error.Message, StringComparison.Ordinal);
    }
}
