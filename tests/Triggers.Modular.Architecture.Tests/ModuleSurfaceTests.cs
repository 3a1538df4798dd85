using Triggers.Modular.Architecture.Tests.Support;
using static Triggers.Modular.Architecture.Tests.Support.Repository;

namespace Triggers.Modular.Architecture.Tests;

/// <summary>Rule 5: a module's implementation project is internal by default; its only public surface is the static
/// <c>AddXModule</c> / <c>MapXEndpoints</c> entry points. What other modules may use lives in <c>X.Contracts</c>.</summary>
public sealed class ModuleSurfaceTests
{
    internal static bool IsAllowedPublicType(Type type) =>
        TypeShape.IsCompilerGenerated(type)
        || (TypeShape.IsStaticClass(type) && !type.IsNested
            && (type.Name.EndsWith("ModuleRegistration", StringComparison.Ordinal) || type.Name.EndsWith("Endpoints", StringComparison.Ordinal)));

    [Theory]
    [MemberData(nameof(ModuleData), MemberType = typeof(Repository))]
    public void Given_a_module_implementation_When_its_public_types_are_listed_Then_only_the_registration_entry_points_remain(string module)
    {
        var assembly = ImplementationName(module);

        var offenders = TypesOf(assembly).Where(t => TypeShape.IsVisibleOutsideAssembly(t) && !IsAllowedPublicType(t))
            .Select(t => t.FullName!);

        Expect.None(offenders, $"Public types in {assembly} other than static *ModuleRegistration / *Endpoints classes "
            + "(make them internal, or move what other modules need to the .Contracts project)");
    }

    [Fact]
    public void Given_sample_types_When_checked_against_the_public_surface_rule_Then_only_static_entry_points_pass()
    {
        Assert.True(IsAllowedPublicType(typeof(SampleModuleRegistration)));
        Assert.True(IsAllowedPublicType(typeof(SampleEndpoints)));
        Assert.False(IsAllowedPublicType(typeof(SampleService)));
        Assert.False(IsAllowedPublicType(typeof(NonStaticEndpoints)));
    }
}

#pragma warning disable CA1812 // samples are only inspected, never instantiated
internal static class SampleModuleRegistration;

internal static class SampleEndpoints;

internal sealed class SampleService;

internal sealed class NonStaticEndpoints;
#pragma warning restore CA1812
