using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Executions.Steps.Http;

namespace Triggers.Modular.Executions.Tests.Steps.Http;

public sealed class HttpStepRegistrationTests
{
    [Fact]
    public void Given_an_Executions_Http_section_When_registered_Then_the_options_are_bound_and_the_handler_runs_http()
    {
        using var provider = Provider(new()
        {
            ["Executions:Http:AllowedNetworks:0"] = "10.20.0.0/16",
            ["Executions:Http:AllowedNetworks:1"] = "billing.internal",
            ["Executions:Http:MaxResponseBytes"] = "2048",
            ["Executions:Http:DefaultTimeoutSeconds"] = "12",
            ["Executions:Http:MaxRedirects"] = "1",
            ["Executions:Http:UserAgent"] = "acme/2",
        });

        var options = provider.GetRequiredService<IOptions<HttpStepOptions>>().Value;

        Assert.Equal(["10.20.0.0/16", "billing.internal"], options.AllowedNetworks);
        Assert.Equal(2048, options.MaxResponseBytes);
        Assert.Equal(12, options.DefaultTimeoutSeconds);
        Assert.Equal(1, options.MaxRedirects);
        Assert.Equal("acme/2", options.UserAgent);
        var handler = Assert.Single(provider.GetServices<IStepHandler>());
        Assert.Equal("http", handler.StepType);
        Assert.IsType<HttpStepHandler>(handler);
    }

    [Fact]
    public void Given_no_section_When_registered_Then_the_defaults_apply()
    {
        using var provider = Provider([]);

        var options = provider.GetRequiredService<IOptions<HttpStepOptions>>().Value;

        Assert.Empty(options.AllowedNetworks);
        Assert.Equal(1024 * 1024, options.MaxResponseBytes);
        Assert.Equal(30, options.DefaultTimeoutSeconds);
        Assert.Equal(5, options.MaxRedirects);
        Assert.Equal("Triggers.Modular/1.0", options.UserAgent);
    }

    [Fact]
    public void Given_the_registration_twice_When_resolved_Then_there_is_one_http_handler()
    {
        var configuration = new ConfigurationBuilder().Build();
        var services = new ServiceCollection().AddHttpStepHandler(configuration).AddHttpStepHandler(configuration);
        using var provider = services.BuildServiceProvider();

        Assert.Single(provider.GetServices<IStepHandler>());
    }

    [Fact]
    public void Given_invalid_settings_When_the_options_are_read_Then_each_error_names_its_setting()
    {
        using var provider = Provider(new()
        {
            ["Executions:Http:AllowedNetworks:0"] = "10.0.0.1/8",
            ["Executions:Http:MaxResponseBytes"] = "0",
            ["Executions:Http:DefaultTimeoutSeconds"] = "301",
        });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<HttpStepOptions>>().Value);

        Assert.Equal(3, error.Failures.Count());
        Assert.Contains(error.Failures, f => f.Contains("Executions:Http:AllowedNetworks", StringComparison.Ordinal) && f.Contains("'10.0.0.1/8'", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("Executions:Http:MaxResponseBytes", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("Executions:Http:DefaultTimeoutSeconds", StringComparison.Ordinal));
    }

    private static ServiceProvider Provider(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddHttpStepHandler(configuration).BuildServiceProvider();
    }
}
