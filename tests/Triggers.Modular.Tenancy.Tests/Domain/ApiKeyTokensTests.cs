using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.Tenancy.Keys.Domain;

namespace Triggers.Modular.Tenancy.Tests.Domain;

public sealed class ApiKeyTokensTests
{
    [Fact]
    public void Given_a_key_id_When_a_token_is_made_Then_it_names_the_key_and_only_its_hash_is_kept()
    {
        var keyId = PrefixedId.New("key");

        var made = ApiKeyTokens.Create(keyId);

        Assert.StartsWith("tmk_" + keyId[4..] + "_", made.Token, StringComparison.Ordinal);
        Assert.Equal("tmk_" + keyId[4..], made.Prefix);
        Assert.Equal(83, made.Token.Length);
        Assert.Matches("^[0-9a-f]{64}$", made.TokenHash);
        Assert.Equal(ApiKeyTokens.Hash(made.Token), made.TokenHash);
        Assert.True(ApiKeyTokens.TryParse(made.Token, out var parsed));
        Assert.Equal(keyId, parsed);
        Assert.DoesNotContain(made.Token, made.ToString(), StringComparison.Ordinal);
        Assert.NotEqual(made.Token, ApiKeyTokens.Create(keyId).Token);
    }
}
