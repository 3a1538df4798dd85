using System.Text.Json.Nodes;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;

namespace Triggers.Modular.BuildingBlocks.Tests.Aggregates;

public sealed class SerializationTests
{
    private sealed record CustomerRenamed(string CustomerId, string NewName, string? PreviousName);

    // v1 stored {"customer_id","name"}; v2 renamed "name" to "new_name" and added "previous_name".
    private static EventTypeRegistry Registry() => new EventTypeRegistry().Register<CustomerRenamed>("customers.customer_renamed", 2,
        new Dictionary<int, Func<JsonObject, JsonObject>>
        {
            [1] = v1 => new JsonObject { ["customer_id"] = v1["customer_id"]?.DeepClone(), ["new_name"] = v1["name"]?.DeepClone() },
        });

    [Fact]
    public void Given_an_event_When_serialized_Then_the_json_is_snake_case_with_the_registered_name_and_version()
    {
        var data = new EventSerializer(Registry()).Serialize(new CustomerRenamed("c1", "Ada", null), Guid.NewGuid(), EventMetadata.Empty);

        Assert.Equal("customers.customer_renamed", data.Type);
        Assert.Equal(2, data.SchemaVersion);
        Assert.Equal("""{"customer_id":"c1","new_name":"Ada"}""", data.Data);
    }

    [Fact]
    public void Given_a_stored_v1_event_When_deserialized_Then_the_upcaster_brings_it_to_the_current_shape()
    {
        var recorded = Recorded("customers.customer_renamed", 1, """{"customer_id":"c9","name":"Grace"}""");

        var e = Assert.IsType<CustomerRenamed>(new EventSerializer(Registry()).Deserialize(recorded));

        Assert.Equal(new CustomerRenamed("c9", "Grace", null), e);
    }

    [Fact]
    public void Given_an_event_from_a_newer_build_When_deserialized_Then_it_fails_naming_the_versions()
    {
        var ex = Assert.Throws<InvalidOperationException>(() =>
            new EventSerializer(Registry()).Deserialize(Recorded("customers.customer_renamed", 3, "{}")));
        Assert.Contains("schema version 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_a_registry_When_a_name_or_type_is_registered_twice_or_an_upcaster_is_missing_Then_it_refuses()
    {
        var registry = Registry();
        Assert.Throws<InvalidOperationException>(() => registry.Register<string>("customers.customer_renamed"));
        Assert.Throws<InvalidOperationException>(() => registry.Register<CustomerRenamed>("other.name"));
        Assert.Throws<ArgumentException>(() => new EventTypeRegistry().Register<CustomerRenamed>("x.y", 3,
            new Dictionary<int, Func<JsonObject, JsonObject>> { [1] = o => o }));
        Assert.Throws<InvalidOperationException>(() => new EventSerializer(registry).Deserialize(Recorded("unknown.type", 1, "{}")));
    }

    [Fact]
    public void Given_the_same_name_When_ids_are_derived_Then_they_are_stable_distinct_per_index_and_version_5()
    {
        var a = DeterministicId.Create("tenant-1/idem-key-42");
        Assert.Equal(a, DeterministicId.Create("tenant-1/idem-key-42"));
        Assert.NotEqual(a, DeterministicId.Create("tenant-1/idem-key-42", 1));
        Assert.NotEqual(a, DeterministicId.Create("tenant-2/idem-key-42"));
        Assert.Equal(5, a.Version);
    }

    private static RecordedEvent Recorded(string type, int version, string data) =>
        new(Guid.NewGuid(), "customer-1", 0, new GlobalPosition(1, 1), type, version, data, EventMetadata.Empty, DateTimeOffset.UtcNow);
}
