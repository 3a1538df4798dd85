using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Executions.Contracts.Steps.BuiltIn;

namespace Triggers.Modular.Executions.Tests.Steps;

public sealed class StepTypeRegistryTests
{
    [Fact]
    public void Given_the_built_ins_When_the_registry_is_resolved_Then_it_knows_the_four_by_name()
    {
        using var provider = new ServiceCollection().AddBuiltInStepTypes().BuildServiceProvider();

        var registry = provider.GetRequiredService<IStepTypeRegistry>();

        Assert.Equal(["delay", "emit_event", "http", "set"], registry.All.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.True(registry.TryGet("http", out var http));
        Assert.IsType<HttpStepType>(http);
        Assert.False(registry.TryGet("HTTP", out _));
    }

    [Fact]
    public void Given_the_Executions_module_and_the_built_ins_both_registered_When_resolved_Then_each_type_appears_once()
    {
        var services = new ServiceCollection().AddBuiltInStepTypes();
        services.AddExecutionsModule(new ConfigurationBuilder().Build());
        using var provider = services.BuildServiceProvider();

        Assert.Equal(4, provider.GetRequiredService<IStepTypeRegistry>().All.Count);
    }

    [Fact]
    public void Given_a_host_type_reusing_a_built_in_name_When_the_registry_is_resolved_Then_it_refuses_the_duplicate()
    {
        using var provider = new ServiceCollection().AddBuiltInStepTypes().AddStepType<AnotherHttp>().BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(provider.GetRequiredService<IStepTypeRegistry>);

        Assert.Contains("'http'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_each_built_in_When_its_schema_is_read_Then_it_is_a_2020_12_object_schema()
    {
        IStepType[] types = [new HttpStepType(), new DelayStepType(), new SetStepType(), new EmitEventStepType()];

        foreach (var type in types)
        {
            using var schema = JsonDocument.Parse(type.ConfigSchema);
            Assert.Equal("https://json-schema.org/draft/2020-12/schema", schema.RootElement.GetProperty("$schema").GetString());
            Assert.Equal("object", schema.RootElement.GetProperty("type").GetString());
            Assert.False(string.IsNullOrWhiteSpace(type.Description));
        }
    }

#pragma warning disable CA1812 // created by the container
    private sealed class AnotherHttp : IStepType
    {
        public string Name => "http";
        public string Description => "A host's own http.";
        public string ConfigSchema => "{}";
        public IReadOnlyList<StepConfigError> Validate(JsonElement config) => [];
    }
#pragma warning restore CA1812
}
