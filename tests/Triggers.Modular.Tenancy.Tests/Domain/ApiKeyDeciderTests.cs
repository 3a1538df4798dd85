using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.Tenancy.Keys.Domain;

namespace Triggers.Modular.Tenancy.Tests.Domain;

public sealed class ApiKeyDeciderTests
{
    private const string KeyId = "key_01JD0000000000000000000000";
    private static readonly DateTimeOffset At = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly ApiKeyDecider Decider = ApiKeyDecider.Instance;

    private static ApiKeyCommand.Issue Issue(params string[] permissions) =>
        new(KeyId, "acme", "dev", "ci", permissions, "ab12", "tmk_01JD0000000000000000000000", At);

    private static ApiKeyState Issued() => Decider.Decide(Decider.Initial, Issue("events:write")).Aggregate(Decider.Initial, Decider.Evolve);

    [Fact]
    public void Given_no_key_When_issued_Then_ApiKeyIssued_holds_the_hash_and_the_prefix()
    {
        var issued = Assert.IsType<ApiKeyIssued>(Assert.Single(Decider.Decide(Decider.Initial, Issue("events:write", "events:write", "admin"))));

        Assert.Equal(("acme", "dev", "ci", "ab12", "tmk_01JD0000000000000000000000", At),
            (issued.TenantId, issued.Environment, issued.Name, issued.TokenHash, issued.Prefix, issued.CreatedAt));
        Assert.Equal(["events:write", "admin"], issued.Permissions);
        Assert.DoesNotContain(typeof(ApiKeyIssued).GetProperties(), p => p.Name.Contains("Token", StringComparison.Ordinal) && p.Name != "TokenHash");
    }

    [Theory]
    [InlineData]
    [InlineData("events:write", "root")]
    public void Given_bad_permissions_When_issued_Then_refused(params string[] permissions)
    {
        Assert.Throws<BadRequestException>(() => Decider.Decide(Decider.Initial, Issue(permissions)));
    }

    [Fact]
    public void Given_an_issued_key_When_issued_again_with_the_same_id_Then_conflict()
    {
        Assert.Throws<ConflictException>(() => Decider.Decide(Issued(), Issue("admin")));
    }

    [Fact]
    public void Given_an_issued_key_When_revoked_Then_ApiKeyRevoked_and_a_second_revoke_is_a_no_op()
    {
        var events = Decider.Decide(Issued(), new ApiKeyCommand.Revoke(KeyId, "acme", "dev", At.AddHours(1)));
        Assert.Equal<IEvent>([new ApiKeyRevoked(KeyId, At.AddHours(1))], events);

        var revoked = events.Aggregate(Issued(), Decider.Evolve);
        Assert.True(revoked.IsRevoked);
        Assert.Empty(Decider.Decide(revoked, new ApiKeyCommand.Revoke(KeyId, "acme", "dev", At.AddHours(2))));
    }

    [Theory]
    [InlineData("acme", "prod")]
    [InlineData("other", "dev")]
    public void Given_a_key_of_another_scope_When_revoked_Then_not_found_exactly_like_a_missing_key(string tenant, string environment)
    {
        var other = Assert.Throws<NotFoundException>(() => Decider.Decide(Issued(), new ApiKeyCommand.Revoke(KeyId, tenant, environment, At)));
        var missing = Assert.Throws<NotFoundException>(() => Decider.Decide(Decider.Initial, new ApiKeyCommand.Revoke(KeyId, tenant, environment, At)));

        Assert.Equal(missing.Message, other.Message);
    }
}
