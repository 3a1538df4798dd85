using Triggers.Modular.Architecture.Tests.Support;
using static Triggers.Modular.Architecture.Tests.Support.Repository;

namespace Triggers.Modular.Architecture.Tests;

/// <summary>The rules above discover modules from <c>src/Modules</c>; these tests make sure what they discover is complete.</summary>
public sealed class RepositoryLayoutTests
{
    [Theory]
    [MemberData(nameof(ModuleData), MemberType = typeof(Repository))]
    public void Given_a_module_directory_When_listed_Then_it_holds_the_module_and_its_Contracts_project(string module)
    {
        var missing = new[] { ImplementationName(module), ContractsName(module) }
            .Select(p => ModuleProjectPath(module, p)).Where(p => !File.Exists(p));

        Expect.None(missing, $"Module {module} lacks project files");
    }

    [Theory]
    [MemberData(nameof(ModuleProjectData), MemberType = typeof(Repository))]
    public void Given_a_module_project_When_the_architecture_tests_project_is_read_Then_it_references_the_project(string project)
    {
        // Not through the Host: a module the Host forgot must still be inspected here, and reported by HostCompositionTests.
        Assert.True(ProjectReferences(ArchitectureTestsProjectPath).Contains(project),
            $"{ArchitectureTestsProjectPath} has no ProjectReference to {project}, so no rule inspects it");
    }
}
