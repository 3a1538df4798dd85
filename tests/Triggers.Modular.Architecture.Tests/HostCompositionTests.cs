using Triggers.Modular.Architecture.Tests.Support;
using static Triggers.Modular.Architecture.Tests.Support.Repository;

namespace Triggers.Modular.Architecture.Tests;

/// <summary>Rule 6: the Host is the one composition root; a module it does not reference or register never runs.</summary>
public sealed class HostCompositionTests
{
    private static readonly string RegistryPath = Path.Combine(Root, "src", "Host", "ModulesRegistry.cs");

    [Theory]
    [MemberData(nameof(ModuleData), MemberType = typeof(Repository))]
    public void Given_a_module_When_the_Host_project_is_read_Then_it_references_the_module_project(string module)
    {
        var references = ProjectReferences(HostProjectPath);

        Assert.True(references.Contains(ImplementationName(module)),
            $"{HostProjectPath} has no ProjectReference to {ModuleProjectPath(module, ImplementationName(module))}");
    }

    [Theory]
    [MemberData(nameof(ModuleData), MemberType = typeof(Repository))]
    public void Given_a_module_When_ModulesRegistry_is_read_Then_it_calls_the_modules_registration(string module)
    {
        var call = $"Add{module}Module(";

        Assert.True(File.ReadAllText(RegistryPath).Contains(call, StringComparison.Ordinal), $"{RegistryPath} does not call {call}...)");
    }
}
