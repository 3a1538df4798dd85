using NetArchTest.Rules;
using Triggers.Modular.Architecture.Tests.Support;

namespace Triggers.Modular.Architecture.Tests;

/// <summary>Proves that the type names the dependency rules hand to NetArchTest match, nested types included, so that
/// <see cref="ModuleDependencyTests"/> cannot pass because the names are spelled the way NetArchTest never sees them.</summary>
public sealed class DependencySearchSelfTests
{
    [Theory]
    [InlineData(typeof(Fixtures.UsesTopLevel), typeof(Fixtures))]
    [InlineData(typeof(Fixtures.UsesNested), typeof(Fixtures.Target))]
    public void Given_a_type_using_another_When_searched_by_the_others_name_Then_the_dependency_is_found(Type user, Type used)
    {
        var result = Types.InAssembly(typeof(DependencySearchSelfTests).Assembly)
            .That().HaveName(user.Name).ShouldNot().HaveDependencyOnAny(TypeShape.CecilName(used)).GetResult();

        Assert.False(result.IsSuccessful, $"NetArchTest did not see {user.Name} use {TypeShape.CecilName(used)}");
    }

    [Fact]
    public void Given_a_type_using_nothing_forbidden_When_searched_Then_no_dependency_is_found()
    {
        var result = Types.InAssembly(typeof(DependencySearchSelfTests).Assembly)
            .That().HaveName(nameof(Fixtures.UsesNothing)).ShouldNot().HaveDependencyOnAny(TypeShape.CecilName(typeof(Fixtures.Target)))
            .GetResult();

        Assert.True(result.IsSuccessful);
    }

    internal static class Fixtures
    {
        public sealed class Target;

        public static class UsesTopLevel
        {
            public static Type Use() => typeof(Fixtures);
        }

        public static class UsesNested
        {
            public static Target Use() => new();
        }

        public static class UsesNothing
        {
            public static int Use() => 1;
        }
    }
}
