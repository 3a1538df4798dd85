using NetArchTest.Rules;
using Triggers.Modular.Architecture.Tests.Support;
using static Triggers.Modular.Architecture.Tests.Support.Repository;

namespace Triggers.Modular.Architecture.Tests;

/// <summary>Rule 1: a module reaches another module only through its Contracts; Contracts reach no module implementation.</summary>
public sealed class ModuleDependencyTests
{
    [Theory]
    [MemberData(nameof(ModuleData), MemberType = typeof(Repository))]
    public void Given_a_module_When_its_types_are_inspected_Then_none_uses_a_type_of_another_modules_implementation(string module)
    {
        var forbidden = ImplementationTypeNames(Modules.Where(m => m != module));
        if (forbidden.Length == 0) return; // a single module has no neighbour to leak into

        var result = Types.InAssembly(Load(ImplementationName(module))).ShouldNot().HaveDependencyOnAny(forbidden).GetResult();

        Expect.None(result.FailingTypeNames ?? [], $"Types in {ImplementationName(module)} that use another module's implementation types "
            + "(go through that module's .Contracts instead)");
    }

    [Theory]
    [MemberData(nameof(ModuleData), MemberType = typeof(Repository))]
    public void Given_a_module_When_its_compiled_references_are_read_Then_it_references_only_BuildingBlocks_and_Contracts(string module)
    {
        var offenders = Load(ImplementationName(module)).GetReferencedAssemblies().Select(a => a.Name!)
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && !IsAllowedFromModule(n));

        Expect.None(offenders, $"Assemblies {ImplementationName(module)} references that are neither BuildingBlocks nor a .Contracts");
    }

    [Theory]
    [MemberData(nameof(ModuleData), MemberType = typeof(Repository))]
    public void Given_a_module_project_When_its_project_references_are_read_Then_they_point_only_at_BuildingBlocks_and_Contracts(string module)
    {
        var project = ModuleProjectPath(module, ImplementationName(module));

        var offenders = ProjectReferences(project).Where(r => !IsAllowedFromModule(r));

        Expect.None(offenders, $"{project} has project references other than BuildingBlocks and module .Contracts projects");
    }

    [Theory]
    [MemberData(nameof(ModuleData), MemberType = typeof(Repository))]
    public void Given_a_Contracts_project_When_its_project_references_are_read_Then_it_references_BuildingBlocks_at_most(string module)
    {
        var project = ModuleProjectPath(module, ContractsName(module));

        var offenders = ProjectReferences(project).Where(r => r != BuildingBlocksProject);

        Expect.None(offenders, $"{project} references projects other than {BuildingBlocksProject}");
    }

    [Theory]
    [MemberData(nameof(ModuleData), MemberType = typeof(Repository))]
    public void Given_a_Contracts_assembly_When_its_types_are_inspected_Then_none_uses_a_module_implementation(string module)
    {
        var contracts = Load(ContractsName(module));
        var result = Types.InAssembly(contracts).ShouldNot().HaveDependencyOnAny(ImplementationTypeNames(Modules)).GetResult();
        var referenced = contracts.GetReferencedAssemblies().Select(a => a.Name!)
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n != BuildingBlocksProject);

        Expect.None((result.FailingTypeNames ?? []).Concat(referenced.Select(n => "assembly reference " + n)),
            $"{ContractsName(module)} types or references that reach beyond {BuildingBlocksProject}");
    }

    private static bool IsAllowedFromModule(string project) =>
        project == BuildingBlocksProject || Modules.Any(m => project == ContractsName(m));

    /// <summary>Full names of the types a module's implementation assembly declares in its own namespace. Namespaces would not
    /// do: NetArchTest matches child namespaces, and <c>X.Contracts</c> is a child of <c>X</c>. Types the compiler or a source
    /// generator embeds in every assembly under a shared name (<c>System.Runtime.CompilerServices.NullableAttribute</c>,
    /// <c>Mediator.Mediator</c>) are left out: each module has its own copy, which is no dependency on another module.</summary>
    private static string[] ImplementationTypeNames(IEnumerable<string> modules) =>
        modules.SelectMany(m => TypesOf(ImplementationName(m)).Where(t => InModuleNamespace(t, m))).Select(TypeShape.CecilName).ToArray();

    private static bool InModuleNamespace(Type type, string module) =>
        TypeShape.IsInNamespace(type, ImplementationName(module)) && !TypeShape.IsInNamespace(type, ContractsName(module));
}
