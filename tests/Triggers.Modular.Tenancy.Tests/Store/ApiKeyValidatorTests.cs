using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.Tenancy.Tests.Support;

namespace Triggers.Modular.Tenancy.Tests.Store;

public sealed class ApiKeyValidatorTests
{
    private static async Task<string> IssueAsync(TenancyServices services, params string[] permissions)
    {
        await services.Module.CreateTenantAsync("acme", "Acme", ["dev", "prod"]);
        return (await services.Module.IssueApiKeyAsync("acme", "dev", "ci", permissions)).Token;
    }

    private static IApiKeyValidator Validator(TenancyServices services) => services.Provider.GetRequiredService<IApiKeyValidator>();

    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_a_key_just_issued_When_validated_Then_its_identity_comes_back_at_once(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using var services = await TenancyServices.CreateAsync(h);
        await services.Module.CreateTenantAsync("acme", "Acme", ["dev"]);
        var issued = await services.Module.IssueApiKeyAsync("acme", "dev", "ci", ["events:write", "workflows:read"]);

        var identity = await Validator(services).ValidateAsync(issued.Token, default);

        Assert.NotNull(identity);
        Assert.Equal((issued.Id, "acme", "dev"), (identity.KeyId, identity.TenantId, identity.Environment));
        Assert.Equal(["events:write", "workflows:read"], identity.Permissions);
    }

    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_a_token_with_a_wrong_secret_or_an_unknown_key_When_validated_Then_null(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using var services = await TenancyServices.CreateAsync(h);
        var token = await IssueAsync(services, "admin");
        var validator = Validator(services);
        Assert.NotNull(await validator.ValidateAsync(token, default)); // cached now: the wrong secret must still fail

        var wrongSecret = token[..^2] + (token[^2] == 'a' ? "b" : "a") + token[^1];
        var unknownKey = "tmk_" + PrefixedId.New("key")[4..] + token[30..];

        Assert.Null(await validator.ValidateAsync(wrongSecret, default));
        Assert.Null(await validator.ValidateAsync(unknownKey, default));
    }

    private static string[] MalformedShapes()
    {
        var body = PrefixedId.New("key")[4..];
        var secret = PrefixedId.RandomSecret(32);
        return
        [
            "", " ", "tmk_", "tmk__", "Bearer tmk_x", "eyJhbGciOiJIUzI1NiJ9.e30.sig", "tmk_" + body, "tmk_" + body + "_",
            "tmk_" + body + "_" + secret[..^1], "tmk_" + body + "_" + secret + "0", "tmk_" + body + "-" + secret,
            "TMK_" + body + "_" + secret, "tmk_" + body.ToLowerInvariant() + "_" + secret, "tmk_" + body + "_" + secret.ToUpperInvariant(),
            "tmk_8" + body[1..] + "_" + secret, "tmk_" + body[..^1] + "U_" + secret, "tmk_" + body + "_" + secret[..^1] + "!",
            "tmk_" + body + "_" + secret[..^1] + "\u00e9", "tmk_../../etc/passwd_" + secret, "tmk_" + body + "_" + secret + "\n",
            new string('x', 10_000), "tmk_" + new string('0', 26) + "_" + new string('0', 52) + "'; DROP TABLE x; --",
            "tmk_" + new string('0', 26) + "_" + new string('0', 52),
        ];
    }

    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_malformed_tokens_of_many_shapes_When_validated_Then_each_is_null_without_throwing(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using var services = await TenancyServices.CreateAsync(h);
        await IssueAsync(services, "admin");
        var validator = Validator(services);

        foreach (var token in MalformedShapes())
            Assert.True(await validator.ValidateAsync(token, default) is null, $"accepted: {token[..Math.Min(token.Length, 90)]}");
    }

    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_a_cached_key_When_revoked_on_the_same_instance_Then_it_is_refused_at_once(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using var services = await TenancyServices.CreateAsync(h, new Dictionary<string, string?> { ["Auth:ApiKeyCacheSeconds"] = "3600" });
        await services.Module.CreateTenantAsync("acme", "Acme", ["dev"]);
        var issued = await services.Module.IssueApiKeyAsync("acme", "dev", "ci", ["admin"]);
        var validator = Validator(services);
        Assert.NotNull(await validator.ValidateAsync(issued.Token, default));

        await services.Module.RevokeApiKeyAsync("acme", "dev", issued.Id);

        Assert.Null(await validator.ValidateAsync(issued.Token, default));
    }

    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_a_key_cached_on_another_instance_When_revoked_here_Then_the_other_refuses_it_once_its_cache_entry_expires(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        var clock = new ManualClock();
        await using var here = await TenancyServices.CreateAsync(h);
        await using var there = await TenancyServices.CreateAsync(await h.OpenPeerAsync(), h.OpenDatabase(), clock: clock);
        await here.Module.CreateTenantAsync("acme", "Acme", ["dev"]);
        var issued = await here.Module.IssueApiKeyAsync("acme", "dev", "ci", ["admin"]);
        Assert.NotNull(await Validator(there).ValidateAsync(issued.Token, default));

        await here.Module.RevokeApiKeyAsync("acme", "dev", issued.Id);

        Assert.Null(await Validator(here).ValidateAsync(issued.Token, default));
        Assert.NotNull(await Validator(there).ValidateAsync(issued.Token, default)); // within the 5 s TTL
        clock.Advance(TimeSpan.FromSeconds(6));
        Assert.Null(await Validator(there).ValidateAsync(issued.Token, default));
    }
}
