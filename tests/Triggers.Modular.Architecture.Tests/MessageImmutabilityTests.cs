using Triggers.Modular.Architecture.Tests.Support;
using static Triggers.Modular.Architecture.Tests.Support.Repository;

namespace Triggers.Modular.Architecture.Tests;

/// <summary>Rule 4: commands, queries and events are immutable records. A module without any yet passes; the detector is
/// proved on fixtures in <see cref="MessageShapeDetectorTests"/> so that the rule cannot pass because it sees nothing.</summary>
public sealed class MessageImmutabilityTests
{
    [Theory]
    [MemberData(nameof(ModuleProjectData), MemberType = typeof(Repository))]
    public void Given_a_module_assembly_When_its_commands_queries_and_events_are_inspected_Then_each_is_an_immutable_record(string assembly)
    {
        var offenders = TypesOf(assembly).Where(MessageShape.IsMessage)
            .Select(t => (Type: t, Violations: MessageShape.Violations(t)))
            .Where(x => x.Violations.Count > 0)
            .Select(x => $"{x.Type.FullName}: {string.Join("; ", x.Violations)}");

        Expect.None(offenders, $"Messages in {assembly} that are not immutable records");
    }
}
