using FluentValidation.Results;

namespace Triggers.Modular.Definitions.Validation;

/// <summary>Collects field-level failures; each path is the snake_case path of the field as the client wrote it.</summary>
internal sealed class ValidationErrors
{
    private readonly List<ValidationFailure> _failures = [];

    public IReadOnlyList<ValidationFailure> Failures => _failures;

    public void Add(string path, string message) => _failures.Add(new ValidationFailure(path, message));
}
