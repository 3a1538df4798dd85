using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Executions.Steps.BuiltIn;

namespace Triggers.Modular.Executions.Tests.Steps.BuiltIn;

public sealed class SetAndDelayHandlerTests
{
    private static readonly DateTimeOffset Now = new(2030, 1, 31, 9, 0, 0, TimeSpan.Zero);

    private static readonly JsonElement Context = Json("""
        {
          "trigger": { "email": "ann@example.com", "amount": 12.50, "remind_at": "2030-02-01T10:00:00+01:00", "past": "2020-01-01T00:00:00Z",
                       "garbage": "next tuesday", "profile": { "plan": "pro" } },
          "steps": { "a": { "output": { "status": 201 } } }
        }
        """);

    private static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static StepExecutionContext Step(string type, string config, DateTimeOffset? now = null) =>
        new("exec_1", "s1", type, 1, "exec_1:s1", Json(config), Context, "t1", "production", now ?? Now, null);

    private static async Task<StepOutcome> Set(string config) =>
        await new SetStepHandler().ExecuteAsync(Step("set", config), CancellationToken.None);

    private static async Task<StepOutcome> Delay(string config, DateTimeOffset? now = null) =>
        await new DelayStepHandler().ExecuteAsync(Step("delay", config, now), CancellationToken.None);

    [Fact]
    public async Task Given_set_values_with_templates_When_executed_Then_it_completes_with_the_rendered_values()
    {
        var outcome = await Set("""
            { "values": { "email": "{{ trigger.email }}", "greeting": "Hi {{ trigger.email }}", "amount": "{{ trigger.amount }}",
                          "profile": "{{ trigger.profile }}", "ok": "{{ steps.a.output.status }}", "fixed": [1, "two"] } }
            """);

        var output = Assert.IsType<StepOutcome.Completed>(outcome).Output;
        Assert.Equal("ann@example.com", output.GetProperty("email").GetString());
        Assert.Equal("Hi ann@example.com", output.GetProperty("greeting").GetString());
        Assert.Equal("12.50", output.GetProperty("amount").GetRawText());
        Assert.Equal("pro", output.GetProperty("profile").GetProperty("plan").GetString());
        Assert.Equal(201, output.GetProperty("ok").GetInt32());
        Assert.Equal("""[1,"two"]""", output.GetProperty("fixed").GetRawText());
        Assert.Equal(6, output.EnumerateObject().Count());
    }

    [Fact]
    public async Task Given_a_set_value_whose_template_fails_When_executed_Then_it_fails_with_a_non_retryable_template_error()
    {
        var outcome = await Set("""{ "values": { "fine": "{{ trigger.email }}", "broken": "{% for i in (1..1000000000) %}x{% endfor %}" } }""");

        var failed = Assert.IsType<StepOutcome.Failed>(outcome);
        Assert.Equal("template_error", failed.Code);
        Assert.False(failed.Retryable);
        Assert.StartsWith("values.broken: ", failed.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{ "values": [1] }""")]
    [InlineData("null")]
    public async Task Given_a_set_config_without_a_values_object_When_executed_Then_it_fails_with_invalid_config(string config)
    {
        var failed = Assert.IsType<StepOutcome.Failed>(await Set(config));

        Assert.Equal("invalid_config", failed.Code);
        Assert.False(failed.Retryable);
    }

    [Fact]
    public async Task Given_delay_seconds_When_executed_Then_it_sleeps_until_now_plus_the_seconds()
    {
        var sleep = Assert.IsType<StepOutcome.Sleep>(await Delay("""{ "seconds": 90 }"""));

        Assert.Equal(Now.AddSeconds(90), sleep.Until);
        Assert.Equal("2030-01-31T09:01:30Z", sleep.Output.GetProperty("until").GetString());
    }

    [Fact]
    public async Task Given_a_now_with_an_offset_When_delay_seconds_executes_Then_the_output_is_in_utc()
    {
        var now = new DateTimeOffset(2030, 1, 31, 10, 0, 0, 500, TimeSpan.FromHours(1));

        var sleep = Assert.IsType<StepOutcome.Sleep>(await Delay("""{ "seconds": 30 }""", now));

        Assert.Equal(now.AddSeconds(30), sleep.Until);
        Assert.Equal("2030-01-31T09:00:30.5Z", sleep.Output.GetProperty("until").GetString());
    }

    [Theory]
    [InlineData("2030-02-01T09:00:00Z", "2030-02-01T09:00:00Z")]
    [InlineData("2030-02-01T10:00:00+01:00", "2030-02-01T09:00:00Z")]
    [InlineData("{{ trigger.remind_at }}", "2030-02-01T09:00:00Z")]
    [InlineData(" {{ trigger.remind_at }} ", "2030-02-01T09:00:00Z")]
    public async Task Given_delay_until_a_future_instant_When_executed_Then_it_sleeps_until_that_instant(string until, string expected)
    {
        var sleep = Assert.IsType<StepOutcome.Sleep>(await Delay($$"""{ "until": "{{until}}" }"""));

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), sleep.Until);
        Assert.Equal(expected, sleep.Output.GetProperty("until").GetString());
    }

    [Theory]
    [InlineData("{{ trigger.past }}", "2020-01-01T00:00:00Z")]
    [InlineData("2030-01-31T09:00:00Z", "2030-01-31T09:00:00Z")]
    public async Task Given_delay_until_an_instant_already_reached_When_executed_Then_it_completes_at_once_with_the_same_output(string until, string expected)
    {
        var completed = Assert.IsType<StepOutcome.Completed>(await Delay($$"""{ "until": "{{until}}" }"""));

        Assert.Equal(expected, completed.Output.GetProperty("until").GetString());
        Assert.Single(completed.Output.EnumerateObject());
    }

    [Theory]
    [InlineData("""{ "until": "{{ trigger.garbage }}" }""", "next tuesday")]
    [InlineData("""{ "until": "{{ trigger.missing }}" }""", "got \"\"")]
    [InlineData("""{ "until": "2030-02-01T09:00:00" }""", "with an offset")]
    [InlineData("""{ "until": 5 }""", "\"until\"")]
    [InlineData("""{ "seconds": 0 }""", "\"seconds\"")]
    [InlineData("""{ "seconds": 1.5 }""", "\"seconds\"")]
    [InlineData("""{ "seconds": "30" }""", "\"seconds\"")]
    [InlineData("""{ "seconds": 30, "until": "2030-02-01T09:00:00Z" }""", "not both")]
    [InlineData("{}", "not both and not neither")]
    public async Task Given_an_unusable_delay_config_When_executed_Then_it_fails_with_non_retryable_invalid_config(string config, string says)
    {
        var failed = Assert.IsType<StepOutcome.Failed>(await Delay(config));

        Assert.Equal("invalid_config", failed.Code);
        Assert.False(failed.Retryable);
        Assert.Contains(says, failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Given_a_delay_until_template_that_does_not_parse_When_executed_Then_it_fails_with_a_template_error()
    {
        var failed = Assert.IsType<StepOutcome.Failed>(await Delay("""{ "until": "{{ trigger. }}" }"""));

        Assert.Equal("template_error", failed.Code);
        Assert.False(failed.Retryable);
    }

    [Fact]
    public void Given_the_built_in_handlers_registered_twice_When_resolved_Then_set_and_delay_are_there_once_each()
    {
        var services = new ServiceCollection();

        services.AddBuiltInStepHandlers();
        services.AddBuiltInStepHandlers();
        using var provider = services.BuildServiceProvider();

        var types = provider.GetServices<IStepHandler>().Select(h => h.StepType).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["delay", "set"], types);
    }
}
