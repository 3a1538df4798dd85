using NetArchTest.Rules;
using Triggers.Modular.Architecture.Tests.Support;
using Triggers.Modular.BuildingBlocks.EventStore;
using static Triggers.Modular.Architecture.Tests.Support.Repository;

namespace Triggers.Modular.Architecture.Tests;

/// <summary>Rule 2: BuildingBlocks holds shared mechanisms and knows no module.</summary>
public sealed class BuildingBlocksIndependenceTests
{
    private static readonly System.Reflection.Assembly Assembly = typeof(IEventStore).Assembly;

    [Fact]
    public void Given_BuildingBlocks_When_its_types_are_inspected_Then_none_uses_a_module_type()
    {
        // A module namespace also covers its .Contracts child namespace, which is meant here.
        var modules = Modules.Select(ImplementationName).ToArray();

        var result = Types.InAssembly(Assembly).ShouldNot().HaveDependencyOnAny(modules).GetResult();

        Expect.None(result.FailingTypeNames ?? [], $"{BuildingBlocksProject} types that use a module type");
    }

    [Fact]
    public void Given_BuildingBlocks_When_its_compiled_references_are_read_Then_it_references_no_module_assembly()
    {
        var offenders = Assembly.GetReferencedAssemblies().Select(a => a.Name!).Where(ModuleProjects.Contains);

        Expect.None(offenders, $"Module assemblies referenced by {BuildingBlocksProject}");
    }

    [Fact]
    public void Given_the_BuildingBlocks_project_When_its_project_references_are_read_Then_none_points_at_a_module()
    {
        var offenders = ProjectReferences(BuildingBlocksProjectPath).Where(r => r.StartsWith(Prefix, StringComparison.Ordinal));

        Expect.None(offenders, $"{BuildingBlocksProjectPath} references Triggers.Modular projects (it must reference no module)");
    }
}
