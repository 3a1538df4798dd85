using Triggers.Modular.Tenancy.Contracts;

namespace Triggers.Modular.Tenancy.Tests;

public sealed class ModuleSurfaceTests
{
    [Fact]
    public void Given_the_module_assembly_When_its_public_types_are_listed_Then_only_the_two_entry_points_remain()
    {
        var visible = typeof(TenancyModuleRegistration).Assembly.GetExportedTypes().Select(t => t.FullName).Order(StringComparer.Ordinal);

        Assert.Equal(["Triggers.Modular.Tenancy.TenancyEndpoints", "Triggers.Modular.Tenancy.TenancyModuleRegistration"], visible);
    }

    [Fact]
    public void Given_an_issued_key_dto_When_formatted_Then_the_token_is_left_out()
    {
        var dto = new IssuedApiKeyDto("key_1", "tmk_1", "tmk_1_secret", "ci", "acme", "dev", ["admin"], DateTimeOffset.UnixEpoch);

        Assert.DoesNotContain("secret", dto.ToString(), StringComparison.Ordinal);
    }
}
