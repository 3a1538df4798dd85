using System.Runtime.CompilerServices;

namespace Triggers.Modular.Architecture.Tests.Support;

internal static class TypeShape
{
    /// <summary>Effective visibility: a public type nested in an internal one is not reachable from another assembly.</summary>
    public static bool IsVisibleOutsideAssembly(Type type) => type.IsNested
        ? (type.IsNestedPublic || type.IsNestedFamily || type.IsNestedFamORAssem) && IsVisibleOutsideAssembly(type.DeclaringType!)
        : type.IsPublic;

    public static bool IsCompilerGenerated(Type type) =>
        type.Name.StartsWith('<') || type.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false)
        || (type.DeclaringType is { } outer && IsCompilerGenerated(outer));

    public static bool IsStaticClass(Type type) => type is { IsClass: true, IsAbstract: true, IsSealed: true };

    /// <summary>True when <paramref name="type"/> implements one of <paramref name="interfaces"/>; open generic
    /// interfaces match any of their constructions.</summary>
    public static bool Implements(Type type, IReadOnlyCollection<Type> interfaces) =>
        type.GetInterfaces().Any(i => interfaces.Contains(i) || (i.IsGenericType && interfaces.Contains(i.GetGenericTypeDefinition())));

    /// <summary>In <paramref name="ns"/> or one of its child namespaces.</summary>
    public static bool IsInNamespace(Type type, string ns) =>
        type.Namespace == ns || type.Namespace?.StartsWith(ns + ".", StringComparison.Ordinal) == true;

    /// <summary>Reflection writes nested types as <c>Outer+Inner</c>; NetArchTest (Mono.Cecil) as <c>Outer/Inner</c>.</summary>
    public static string CecilName(Type type) => type.FullName!.Replace('+', '/');
}
