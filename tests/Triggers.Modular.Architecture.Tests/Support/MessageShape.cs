using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;

namespace Triggers.Modular.Architecture.Tests.Support;

/// <summary>Finds commands, queries and events, and says why one is not an immutable record.</summary>
internal static class MessageShape
{
    public static readonly Type[] MessageInterfaces =
    [
        typeof(ICommand), typeof(ICommand<>), typeof(IQuery<>), typeof(IRequest), typeof(IRequest<>), typeof(INotification),
        typeof(IStreamCommand<>), typeof(IStreamQuery<>), typeof(IStreamRequest<>), typeof(IEvent),
    ];

    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    public static bool IsMessage(Type type) => !type.IsInterface && TypeShape.Implements(type, MessageInterfaces);

    /// <summary>Why <paramref name="type"/> is not an immutable record; empty when it is one.</summary>
    public static IReadOnlyList<string> Violations(Type type)
    {
        var violations = new List<string>();
        if (!IsRecord(type)) violations.Add("is not a record");
        foreach (var t in SelfAndBases(type))
        {
            violations.AddRange(t.GetProperties(Declared).Where(p => p.SetMethod is { } setter && !IsInit(setter))
                .Select(p => $"property {p.Name} has a setter that is not init"));
            violations.AddRange(t.GetFields(Declared).Where(f => f.IsPublic && !f.IsInitOnly && !f.IsLiteral)
                .Select(f => $"field {f.Name} is public and not readonly"));
        }
        return violations;
    }

    /// <summary>Record classes get <c>&lt;Clone&gt;$</c> and <c>EqualityContract</c>; record structs get neither, only a
    /// compiler-generated <c>PrintMembers</c>.</summary>
    public static bool IsRecord(Type type) => type.IsValueType
        ? type.GetMethod("PrintMembers", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, [typeof(StringBuilder)])
            ?.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false) == true
        : type.GetMethod("<Clone>$", BindingFlags.Instance | BindingFlags.Public) is not null
          || type.GetProperty("EqualityContract", BindingFlags.Instance | BindingFlags.NonPublic) is not null;

    /// <summary>An <c>init</c> accessor carries the <c>IsExternalInit</c> modreq on its return; a <c>set</c> does not.</summary>
    public static bool IsInit(MethodInfo setter) =>
        setter.ReturnParameter.GetRequiredCustomModifiers().Any(m => m.FullName == "System.Runtime.CompilerServices.IsExternalInit");

    private static IEnumerable<Type> SelfAndBases(Type type)
    {
        for (var t = type; t is not null && t != typeof(object) && t != typeof(ValueType); t = t.BaseType) yield return t;
    }
}
