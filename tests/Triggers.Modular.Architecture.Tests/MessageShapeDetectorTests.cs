using Mediator;
using Triggers.Modular.Architecture.Tests.Support;
using Triggers.Modular.BuildingBlocks.Aggregates;

namespace Triggers.Modular.Architecture.Tests;

/// <summary>Proves the detector behind <see cref="MessageImmutabilityTests"/> on fixtures whose answer is known.</summary>
public sealed class MessageShapeDetectorTests
{
    [Theory]
    [InlineData(typeof(Fixtures.PositionalRecord))]
    [InlineData(typeof(Fixtures.InitRecord))]
    [InlineData(typeof(Fixtures.RecordWithReadonlyField))]
    [InlineData(typeof(Fixtures.ReadonlyRecordStruct))]
    [InlineData(typeof(Fixtures.DerivedRecord))]
    public void Given_an_immutable_record_When_inspected_Then_no_violation_is_reported(Type type) =>
        Assert.Empty(MessageShape.Violations(type));

    [Theory]
    [InlineData(typeof(Fixtures.MutableClass), "is not a record")]
    [InlineData(typeof(Fixtures.InitOnlyClass), "is not a record")]
    [InlineData(typeof(Fixtures.RecordWithSetter), "property Name has a setter that is not init")]
    [InlineData(typeof(Fixtures.RecordWithPrivateSetter), "property Name has a setter that is not init")]
    [InlineData(typeof(Fixtures.RecordWithPublicField), "field Count is public and not readonly")]
    [InlineData(typeof(Fixtures.PositionalRecordStruct), "property Name has a setter that is not init")]
    [InlineData(typeof(Fixtures.PlainStruct), "is not a record")]
    [InlineData(typeof(Fixtures.DerivedFromMutableRecord), "property Name has a setter that is not init")]
    public void Given_a_mutable_or_non_record_type_When_inspected_Then_the_violation_is_named(Type type, string expected) =>
        Assert.Contains(expected, MessageShape.Violations(type));

    [Theory]
    [InlineData(typeof(Fixtures.SampleCommand), true)]
    [InlineData(typeof(Fixtures.SampleQuery), true)]
    [InlineData(typeof(Fixtures.SampleEvent), true)]
    [InlineData(typeof(Fixtures.SampleNotification), true)]
    [InlineData(typeof(Fixtures.PositionalRecord), false)]
    [InlineData(typeof(IEvent), false)]
    public void Given_a_type_When_asked_whether_it_is_a_message_Then_commands_queries_and_events_are_recognised(Type type, bool expected) =>
        Assert.Equal(expected, MessageShape.IsMessage(type));

#pragma warning disable CA1051, CA1815, CA1852 // fixtures are deliberately mutable, bare and open
    internal static class Fixtures
    {
        public sealed record PositionalRecord(string Name);
        public sealed record InitRecord { public string Name { get; init; } = ""; }
        public sealed record RecordWithReadonlyField { public readonly int Count = 1; }
        public readonly record struct ReadonlyRecordStruct(string Name);
        public record BaseRecord(string Id);
        public sealed record DerivedRecord(string Id, string Name) : BaseRecord(Id);

        public sealed class MutableClass { public string Name { get; set; } = ""; }
        public sealed class InitOnlyClass { public string Name { get; init; } = ""; }
        public sealed record RecordWithSetter { public string Name { get; set; } = ""; }
        public sealed record RecordWithPrivateSetter { public string Name { get; private set; } = ""; }
        public sealed record RecordWithPublicField { public int Count = 1; }
        public record struct PositionalRecordStruct(string Name);
        public struct PlainStruct { public readonly string Name => ""; }
        public record MutableBaseRecord { public string Name { get; set; } = ""; }
        public sealed record DerivedFromMutableRecord : MutableBaseRecord;

        public sealed record SampleCommand : ICommand;
        public sealed record SampleQuery : IQuery<int>;
        public sealed record SampleEvent(string Id) : IEvent;
        public sealed record SampleNotification : INotification;
    }
#pragma warning restore CA1051, CA1815, CA1852
}
