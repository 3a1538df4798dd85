using FluentValidation;
using Triggers.Modular.Tenancy.Environments;
using Triggers.Modular.Tenancy.Keys;
using Triggers.Modular.Tenancy.Tenants;

namespace Triggers.Modular.Tenancy.Tests.Validation;

public sealed class ValidatorTests
{
    private static List<string> FailingFields<T>(AbstractValidator<T> validator, T command) =>
        validator.Validate(command).Errors.Select(e => e.PropertyName).Distinct().ToList();

    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("Acme")]
    [InlineData("1acme")]
    [InlineData("-acme")]
    [InlineData("acme_corp")]
    [InlineData("acme corp")]
    [InlineData("acme.corp")]
    [InlineData("acmé")]
    [InlineData("a1234567890123456789012345678901234567890")]
    public void Given_a_bad_tenant_id_When_creating_a_tenant_Then_the_error_names_the_id_field(string tenantId)
    {
        Assert.Equal(["Id"], FailingFields(new CreateTenantValidator(), new CreateTenant(tenantId, "Acme", ["dev"])));
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("acme")]
    [InlineData("acme-corp-2")]
    [InlineData("a123456789012345678901234567890123456789")]
    public void Given_a_good_tenant_id_When_creating_a_tenant_Then_it_is_accepted(string tenantId)
    {
        Assert.Empty(FailingFields(new CreateTenantValidator(), new CreateTenant(tenantId, "Acme", ["dev", "prod"])));
    }

    [Theory]
    [InlineData("Dev")]
    [InlineData("")]
    [InlineData("9dev")]
    [InlineData("dev_1")]
    [InlineData("d234567890123456789012345678901")]
    public void Given_a_bad_environment_When_creating_a_tenant_or_an_environment_Then_the_error_names_it(string environment)
    {
        Assert.Equal(["Environments[1]"], FailingFields(new CreateTenantValidator(), new CreateTenant("acme", "Acme", ["dev", environment])));
        Assert.Equal(["Name"], FailingFields(new CreateEnvironmentValidator(), new CreateEnvironment("acme", environment)));
        Assert.Equal(["Environment"], FailingFields(new IssueApiKeyValidator(), new IssueApiKey("acme", environment, "ci", ["admin"])));
    }

    [Fact]
    public void Given_duplicate_environments_or_no_name_When_creating_a_tenant_Then_both_fields_are_named()
    {
        Assert.Equal(["Name", "Environments"], FailingFields(new CreateTenantValidator(), new CreateTenant("acme", "", ["dev", "dev"])));
    }

    [Fact]
    public void Given_an_unknown_permission_When_issuing_a_key_Then_the_error_names_that_permission()
    {
        var result = new IssueApiKeyValidator().Validate(new IssueApiKey("acme", "dev", "ci", ["events:write", "root"]));

        var error = Assert.Single(result.Errors);
        Assert.Equal("Permissions[1]", error.PropertyName);
        Assert.Contains("'root'", error.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_no_permissions_and_no_name_When_issuing_a_key_Then_both_fields_are_named()
    {
        Assert.Equal(["Name", "Permissions"], FailingFields(new IssueApiKeyValidator(), new IssueApiKey("acme", "dev", "", [])));
    }
}
