using System.Diagnostics;
using System.Text;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Executions.Contracts.Steps.BuiltIn;
using Triggers.Modular.Executions.Contracts.Templates;

namespace Triggers.Modular.Executions.Tests.Steps;

/// <summary>Time bounds here guard against super-linear (recursive, exponential) validation, not performance; they are
/// generous because the machine running CI is shared. Validation speed is measured in bench/.</summary>
public sealed class ConfigLimitsTests
{
    [Fact]
    public void Given_a_1_MB_body_full_of_templates_When_validated_Then_it_passes_well_under_a_second()
    {
        var body = new StringBuilder("""{ "url": "https://example.com", "method": "POST", "body": { "items": [""");
        for (var i = 0; body.Length < 1_000_000; i++)
            body.Append(i == 0 ? "" : ",").Append("""{ "name": "{{ trigger.items[0].name | upcase }}", "n": 1 }""");
        body.Append("] } }");
        var config = Config.Parse(body.ToString());
        new HttpStepType().Validate(config); // warm the parser up so the timing measures validation only

        var watch = Stopwatch.StartNew();
        var errors = new HttpStepType().Validate(config);
        watch.Stop();

        Assert.Empty(errors);
        // About 18,000 templates, each parsed by Fluid: 150-450 ms here; the bound leaves room for a loaded CI machine.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public void Given_a_1_MB_body_of_broken_templates_When_validated_Then_the_errors_are_capped_quickly()
    {
        var body = new StringBuilder("""{ "url": "https://example.com", "body": [""");
        for (var i = 0; body.Length < 1_000_000; i++)
            body.Append(i == 0 ? "" : ",").Append("\"{{ x | }}\"");
        body.Append("] }");

        var watch = Stopwatch.StartNew();
        var errors = new HttpStepType().Validate(Config.Parse(body.ToString()));
        watch.Stop();

        Assert.Equal(101, errors.Count);
        Assert.Equal("body[0]", errors[0].Path);
        Assert.Contains("stopped after 100 errors", errors[^1].Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed.TotalMilliseconds} ms");
    }

    [Theory]
    [InlineData(33, "body" + "[0]" + "[0]")]
    [InlineData(5_000, "body" + "[0]" + "[0]")]
    public void Given_a_config_nested_deeper_than_32_When_validated_Then_one_error_says_to_flatten_it(int depth, string pathStart)
    {
        // The config object is level 1 and body level 2, so body plus `depth - 2` arrays puts the innermost at `depth`.
        var json = """{ "url": "https://example.com", "body": """ + new string('[', depth - 1) + new string(']', depth - 1) + " }";

        var watch = Stopwatch.StartNew();
        var error = Assert.Single(new HttpStepType().Validate(Config.Parse(json, maxDepth: 10_000)));
        watch.Stop();

        Assert.StartsWith(pathStart, error.Path, StringComparison.Ordinal);
        Assert.Equal(33, StepConfigLevels(error.Path));
        Assert.Contains("more than 32 levels", error.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public void Given_a_config_exactly_32_levels_deep_When_validated_Then_it_passes()
    {
        var json = """{ "url": "https://example.com", "body": """ + new string('[', 31) + new string(']', 31) + " }";

        Config.Valid(new HttpStepType(), json);
    }

    [Theory]
    [InlineData("plain text", true)]
    [InlineData("{{ trigger.email }}", true)]
    [InlineData("{% for i in trigger.items %}{{ i }}{% endfor %}", true)]
    [InlineData("{{ trigger.email", false)]
    [InlineData("{% for i in x %}", false)]
    public void Given_a_template_When_LiquidTemplates_validates_it_Then_parse_errors_carry_a_message(string template, bool valid)
    {
        Assert.Equal(valid, LiquidTemplates.TryValidate(template, out var error));
        Assert.Equal(valid, error is null);
    }

    // Level of the innermost container named by a path: the config is 1, "body" 2, each [i] one more.
    private static int StepConfigLevels(string path) => 2 + path.Split('[').Length - 1;
}
