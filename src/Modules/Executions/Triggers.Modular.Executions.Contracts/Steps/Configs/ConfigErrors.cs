namespace Triggers.Modular.Executions.Contracts.Steps.Configs;

/// <summary>Collects a step config's errors, keeping at most <see cref="Limit"/> so a huge bad config stays cheap.</summary>
internal sealed class ConfigErrors
{
    public const int Limit = 100;

    private readonly List<StepConfigError> _errors = [];
    private bool _truncated;

    public bool IsFull => _errors.Count >= Limit;

    public void Add(string path, string message)
    {
        if (IsFull)
            _truncated = true;
        else
            _errors.Add(new StepConfigError(path, message));
    }

    /// <summary>Called by a walk that stops early because the list is full.</summary>
    public void MarkStopped() => _truncated = true;

    public IReadOnlyList<StepConfigError> ToList() => _truncated
        ? [.. _errors, new StepConfigError("", $"Validation stopped after {Limit} errors; fix these and validate again.")]
        : _errors;
}
