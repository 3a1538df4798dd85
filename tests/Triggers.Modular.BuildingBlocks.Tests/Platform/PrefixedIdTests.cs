using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Web;

namespace Triggers.Modular.BuildingBlocks.Tests.Platform;

public sealed class PrefixedIdTests
{
    [Fact]
    public void Given_ids_made_over_time_When_sorted_as_strings_Then_they_are_in_creation_order()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var ids = new List<string>();
        for (var i = 0; i < 200; i++)
        {
            ids.Add(PrefixedId.New("wf", clock));
            clock.Advance(TimeSpan.FromMilliseconds(1 + i % 7));
        }

        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        Assert.All(ids, id => Assert.True(PrefixedId.IsValid("wf", id), id));
        Assert.Equal(200, ids.Distinct().Count());
    }

    [Fact]
    public void Given_a_guid_When_encoded_Then_the_body_is_26_crockford_characters_and_round_trips_its_order()
    {
        var id = PrefixedId.From("exec", Guid.Parse("01890a5d-ac96-774b-bcce-b302099a8057"));
        Assert.Equal("exec_", id[..5]);
        Assert.Equal(31, id.Length);
        Assert.Equal(id, PrefixedId.From("exec", Guid.Parse("01890a5d-ac96-774b-bcce-b302099a8057")));
        Assert.True(string.CompareOrdinal(PrefixedId.From("x", Guid.Parse("00000000-0000-0000-0000-000000000001")),
            PrefixedId.From("x", Guid.Parse("00000000-0000-0000-0000-000000000002"))) < 0);
        Assert.Equal("x_0000000000000000000000000Z", PrefixedId.From("x", Guid.Parse("00000000-0000-0000-0000-00000000001f")));
    }

    [Theory]
    [InlineData("wf_01JD0000000000000000000000", true)]
    [InlineData("trg_01JD0000000000000000000000", false)]
    [InlineData("wf_01JD000000000000000000000", false)]
    [InlineData("wf_01JD000000000000000000000U", false)]
    [InlineData("wf-01JD0000000000000000000000", false)]
    [InlineData("wf_81JD0000000000000000000000", false)]
    [InlineData(null, false)]
    public void Given_a_string_When_checked_as_a_wf_id_Then_only_the_exact_shape_passes(string? id, bool valid) =>
        Assert.Equal(valid, PrefixedId.IsValid("wf", id));

    [Fact]
    public void Given_random_secrets_Then_they_are_52_lowercase_base32_characters_and_distinct()
    {
        var secrets = Enumerable.Range(0, 100).Select(_ => PrefixedId.RandomSecret()).ToList();
        Assert.All(secrets, s => Assert.Matches("^[0-9a-hjkmnp-tv-z]{52}$", s));
        Assert.Equal(100, secrets.Distinct().Count());
    }

    [Theory]
    [InlineData("Name", "name")]
    [InlineData("Steps[0].DependsOn", "steps[0].depends_on")]
    [InlineData("RetryPolicy.MaxAttempts", "retry_policy.max_attempts")]
    [InlineData("", "body")]
    public void Given_a_fluent_validation_property_path_Then_the_api_spells_it_in_snake_case(string input, string expected) =>
        Assert.Equal(expected, FieldPath.ToSnake(input));

    [Theory]
    [InlineData("$.steps[0].id", "steps[0].id")]
    [InlineData("$", "body")]
    [InlineData(null, "body")]
    public void Given_a_json_path_Then_the_field_drops_the_root(string? input, string expected) =>
        Assert.Equal(expected, FieldPath.FromJsonPath(input));
}
