using System.Text.Json;

namespace Triggers.Modular.Executions.Contracts.Steps;

/// <summary>One problem in a step's <c>config</c>: <see cref="Path"/> is relative to the config object
/// (<c>url</c>, <c>headers.authorization</c>, <c>body.items[2]</c>; empty for the config itself).</summary>
public sealed record StepConfigError(string Path, string Message);

/// <summary>
/// A kind of workflow step (<c>http</c>, <c>delay</c>, <c>set</c>, <c>emit_event</c>, or one a host registers): its name,
/// the shape of its <c>config</c>, and the validation Definitions runs when a definition is saved. Executing steps is
/// the Executions module's business, not this contract's.
/// </summary>
public interface IStepType
{
    /// <summary>The value of a step's <c>type</c>: lower-case, <c>[a-z][a-z0-9_]*</c>.</summary>
    string Name { get; }

    /// <summary>One sentence for documentation and error messages.</summary>
    string Description { get; }

    /// <summary>A JSON Schema (draft 2020-12) of <c>config</c>, for documentation and clients.</summary>
    string ConfigSchema { get; }

    /// <summary>Checks a step's config (<see cref="JsonValueKind.Undefined"/> when the step has none); empty when valid.
    /// Must be fast and side-effect free: it runs on every save of a definition.</summary>
    IReadOnlyList<StepConfigError> Validate(JsonElement config);
}

/// <summary>The step types this host knows.</summary>
public interface IStepTypeRegistry
{
    IReadOnlyCollection<IStepType> All { get; }

    bool TryGet(string name, out IStepType stepType);
}
