using FluentValidation;
using Triggers.Modular.Definitions.Model;
using Triggers.Modular.Definitions.Validation;
using static Triggers.Modular.Definitions.Tests.Validation.ValidationFixture;

namespace Triggers.Modular.Definitions.Tests.Validation;

public sealed class DefinitionDocumentValidatorTests
{
    private sealed record CarriesDocument(DefinitionDocument Document);

    /// <summary>How a command's validator is expected to use it.</summary>
    private sealed class CarriesDocumentValidator : AbstractValidator<CarriesDocument>
    {
        public CarriesDocumentValidator() => RuleFor(c => c.Document).SetValidator(new DefinitionDocumentValidator(Validator));
    }

    [Fact]
    public void Given_an_invalid_document_When_validated_directly_Then_the_paths_are_the_clients()
    {
        var result = new DefinitionDocumentValidator(Validator).Validate(With(d => d["steps"]![0]!["id"] = "Bad"));
        Assert.Equal("steps[0].id", Assert.Single(result.Errors).PropertyName);
    }

    [Fact]
    public void Given_a_command_carrying_an_invalid_document_When_validated_Then_the_paths_have_no_document_prefix()
    {
        var result = new CarriesDocumentValidator().Validate(new CarriesDocument(With(d =>
        {
            d.Remove("name");
            d["steps"]![0]!["id"] = "Bad";
        })));

        Assert.Equal(["name", "steps[0].id"], result.Errors.Select(e => e.PropertyName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Given_a_valid_document_When_validated_Then_there_are_no_errors() =>
        Assert.True(new DefinitionDocumentValidator(Validator).Validate(Parse(Minimal)).IsValid);
}
