using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.Domain;
using Triggers.Modular.Executions.Runtime;

namespace Triggers.Modular.Executions.Application;

/// <summary>Starts executions: pins the definition version, records <see cref="ExecutionStarted"/> with the first ready
/// steps (and whatever inline steps decide with them), and hands the rest to the runtime. Idempotent on the execution id.</summary>
internal sealed class ExecutionStarter(IDefinitionsModule definitions, PlanCache plans, ExecutionStore store, EmbeddedRuntime runtime, TimeProvider clock)
{
    public static readonly string[] TriggerTypes = ["event", "webhook", "schedule", "manual", "api"];

    /// <param name="definitionRead">The definition's read for this start, when the caller shares one read among several starts
    /// (the latest version, or <see cref="StartExecution.WorkflowVersion"/>, of the command's tenant × environment).</param>
    public async Task<StartExecutionResult> StartAsync(StartExecution command, CancellationToken cancellationToken, Task<DefinitionDto?>? definitionRead = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (!PrefixedId.IsValid("exec", command.ExecutionId))
            throw new ArgumentException($"'{command.ExecutionId}' is not an execution id (exec_…).", nameof(command));
        if (!TriggerTypes.Contains(command.TriggerType, StringComparer.Ordinal))
            throw new ArgumentException($"Unknown trigger type '{command.TriggerType}'.", nameof(command));

        var definition = await (definitionRead
                ?? definitions.GetAsync(command.TenantId, command.Environment, command.WorkflowId, command.WorkflowVersion, cancellationToken))
            .ConfigureAwait(false);
        if (definition is null || (command.RequireEnabled && !definition.Enabled))
        {
            // A start repeated after its definition was deleted or disabled still answers with the execution it started.
            var existing = await store.LoadAsync(command.ExecutionId, cancellationToken).ConfigureAwait(false);
            if (existing is not null) return Existing(existing.State, command);
            if (definition is null) throw new NotFoundException("Workflow definition", command.WorkflowId);
            throw new ConflictException($"Workflow definition '{command.WorkflowId}' is disabled; enable it to run it.", "definition-disabled");
        }

        var plan = plans.Add(definition);
        var metadata = new EventMetadata(command.TenantId, command.Environment, command.Actor, command.CorrelationId ?? command.ExecutionId,
            command.CausationId);
        var result = await runtime.DecideAsync(command.ExecutionId,
            () => new ExecutionCommand.Start(command.ExecutionId, command.TenantId, command.Environment, command.TriggerType, command.TriggerRef,
                command.Payload, command.Event, clock.GetUtcNow()),
            metadata, null, cancellationToken, new ExecutionDecider(plan), isNew: true)
            .ConfigureAwait(false);
        // Tried as new without a read first (starts are nearly always new): if the stream exists, the append conflicts and
        // the start is decided again on the stored state, where it decides nothing.
        if (result is null || result.Events.Count == 0) return Existing(result?.State ?? ExecutionState.Initial, command);
        return new StartExecutionResult(command.ExecutionId, StepStatusNames.Of(result.State.Status), plan.Version, Created: true);
    }

    private static StartExecutionResult Existing(ExecutionState state, StartExecution command) =>
        // An id is unique across tenants; one that exists elsewhere is refused like a conflict, never revealed.
        state.BelongsTo(command.TenantId, command.Environment)
            ? new StartExecutionResult(state.Id, StepStatusNames.Of(state.Status), state.WorkflowVersion, Created: false)
            : throw new ConflictException($"Execution id '{command.ExecutionId}' is already taken.");
}
