using System.Reflection;
using System.Xml.Linq;
using NetArchTest.Rules;

namespace Triggers.Modular.Architecture.Tests;

public sealed class ModuleBoundaryTests
{
    private static readonly string[] ModuleNames = ["Definitions", "Triggers", "Executions", "Audit", "Temporal"];

    public static TheoryData<string> Modules => new(ModuleNames);

    private static readonly string Root = FindRoot();

    [Theory]
    [MemberData(nameof(Modules))]
    public void Given_a_module_When_its_types_are_inspected_Then_it_uses_no_internal_type_of_another_module(string module)
    {
        var assembly = Assembly.Load($"Triggers.Modular.{module}");
        // Full names of every type inside the other modules' internal assemblies (their Contracts are allowed).
        var internals = ModuleNames.Where(m => m != module)
            .SelectMany(m => Assembly.Load($"Triggers.Modular.{m}").GetTypes()).Select(t => t.FullName!).ToArray();
        Assert.NotEmpty(internals);

        var result = Types.InAssembly(assembly).ShouldNot().HaveDependencyOnAny(internals).GetResult();

        Assert.True(result.IsSuccessful, string.Join(", ", result.FailingTypeNames ?? []));
        var referenced = assembly.GetReferencedAssemblies().Select(a => a.Name!)
            .Where(n => n.StartsWith("Triggers.Modular.", StringComparison.Ordinal) && !n.EndsWith(".Contracts", StringComparison.Ordinal)
                        && n != "Triggers.Modular.BuildingBlocks" && n != $"Triggers.Modular.{module}").ToList();
        Assert.Empty(referenced);
    }

    [Theory]
    [MemberData(nameof(Modules))]
    public void Given_a_module_project_When_its_references_are_read_Then_it_references_other_modules_only_through_Contracts(string module)
    {
        foreach (var project in Directory.GetFiles(Path.Combine(Root, "src", "Modules", module), "*.csproj", SearchOption.AllDirectories))
        {
            var references = XDocument.Load(project).Descendants("ProjectReference").Select(r => (string)r.Attribute("Include")!).ToList();
            var offenders = references.Select(Path.GetFileNameWithoutExtension)
                .Where(name => name!.StartsWith("Triggers.Modular.", StringComparison.Ordinal)
                               && name != "Triggers.Modular.BuildingBlocks"
                               && !name.StartsWith($"Triggers.Modular.{module}", StringComparison.Ordinal)
                               && !name.EndsWith(".Contracts", StringComparison.Ordinal))
                .ToList();
            Assert.True(offenders.Count == 0, $"{Path.GetFileName(project)} references {string.Join(", ", offenders)}");
        }
    }

    [Fact]
    public void Given_building_blocks_When_inspected_Then_they_depend_on_no_module()
    {
        var result = Types.InAssembly(typeof(global::Triggers.Modular.BuildingBlocks.EventStore.IEventStore).Assembly)
            .ShouldNot().HaveDependencyOnAny(ModuleNames.Select(m => $"Triggers.Modular.{m}").ToArray()).GetResult();
        Assert.True(result.IsSuccessful, string.Join(", ", result.FailingTypeNames ?? []));
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Triggers.Modular.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Triggers.Modular.sln not found above " + AppContext.BaseDirectory);
    }
}
