using FluentValidation;
using Mediator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Executions.Application;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.Contracts.Steps.BuiltIn;
using Triggers.Modular.Executions.ReadModel;
using Triggers.Modular.Executions.Runtime;
using Triggers.Modular.Executions.Steps.BuiltIn;
using Triggers.Modular.Executions.Steps.Http;
using Dapper;
using Triggers.Modular.BuildingBlocks.Errors;

namespace Triggers.Modular.Executions;

internal sealed class ExecutionsModule(ExecutionStarter starter, ExecutionStore store, EmbeddedRuntime runtime, IStoreDatabase database, TimeProvider clock)
    : IExecutionsModule
{
    public Task<StartExecutionResult> StartAsync(StartExecution command, CancellationToken cancellationToken = default) =>
        starter.StartAsync(command, cancellationToken);

    public async Task<IReadOnlyList<string>> ListActiveAsync(string tenantId, string environment, string workflowId,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var ids = await connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT execution_id FROM {ExecutionsProjection.Table(database.Dialect)} WHERE tenant_id = @tenantId AND environment = @environment " +
            "AND workflow_id = @workflowId AND status IN ('pending', 'running') ORDER BY execution_id",
            new { tenantId, environment, workflowId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return ids.ToList();
    }

    public async Task<bool?> IsFinishedAsync(string tenantId, string environment, string executionId, CancellationToken cancellationToken = default)
    {
        var loaded = await store.LoadAsync(executionId, cancellationToken).ConfigureAwait(false);
        return loaded is null || !loaded.State.BelongsTo(tenantId, environment) ? null : loaded.State.IsTerminal;
    }

    public async Task<bool> CancelAsync(string tenantId, string environment, string executionId, string? reason,
        CancellationToken cancellationToken = default)
    {
        var loaded = await store.LoadAsync(executionId, cancellationToken).ConfigureAwait(false);
        if (loaded is null || !loaded.State.BelongsTo(tenantId, environment) || loaded.State.IsTerminal) return false;
        DecisionResult? result;
        try
        {
            result = await runtime.DecideAsync(executionId, () => new Domain.ExecutionCommand.Cancel(reason, clock.GetUtcNow()),
                new BuildingBlocks.EventStore.EventMetadata(tenantId, environment, "system", loaded.CorrelationId, executionId),
                loaded, cancellationToken).ConfigureAwait(false);
        }
        catch (ConflictException)
        {
            return false; // it finished meanwhile
        }

        return result is { Events.Count: > 0 };
    }
}

public static class ExecutionsModuleRegistration
{
    /// <summary>Registers the module: its mediator, event types, read models, the embedded runtime, and the built-in step
    /// types and handlers (<c>http</c>, <c>delay</c>, <c>set</c>; <c>emit_event</c> is declared here and run by the Triggers
    /// module). Hosts add their own with <c>AddStepType&lt;T&gt;()</c> and <c>AddStepHandler&lt;T&gt;()</c>.</summary>
    public static IServiceCollection AddExecutionsModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddMediator((MediatorOptions o) =>
        {
            o.Namespace = "Triggers.Modular.Executions.Mediation";
            o.GenerateTypesAsInternal = true;
            o.ServiceLifetime = ServiceLifetime.Scoped;
            o.Assemblies = [typeof(ExecutionsModuleRegistration)];
            o.PipelineBehaviors = [];
        });
        services.AddValidatorsFromAssembly(typeof(ExecutionsModuleRegistration).Assembly, includeInternalTypes: true);
        services.AddEventTypes(r => ExecutionEventTypes.Register(r));
        services.TryAddSingleton(TimeProvider.System);
        var options = new RuntimeOptions();
        configuration.GetSection("Executions:Runtime").Bind(options);
        if (options.Mode is not { } mode || !RuntimeOptions.Modes.Contains(mode, StringComparer.OrdinalIgnoreCase))
            throw new InvalidOperationException(
                $"Executions:Runtime:Mode must be one of {string.Join(", ", RuntimeOptions.Modes)}; it is '{options.Mode}'.");
        services.AddSingleton(options);
        services.AddBuiltInStepTypes();
        services.AddBuiltInStepHandlers();
        services.AddHttpStepHandler(configuration);
        services.AddSingleton<PlanCache>();
        services.AddSingleton<ExecutionStore>();
        services.AddSingleton<WorkQueue>();
        services.AddSingleton<StepAttempts>();
        services.AddSingleton<EmbeddedRuntime>();
        services.AddHostedService(sp => sp.GetRequiredService<EmbeddedRuntime>());
        services.AddSingleton<ExecutionStarter>();
        services.AddSingleton<IMigrationSource>(ExecutionsProjection.Migrations);
        services.AddProjection<ExecutionsProjection>();
        services.AddProjection<WorkQueueProjection>();
        services.AddEventProcessor<TriggeredExecutions>();
        services.AddSingleton<IExecutionsModule, ExecutionsModule>();
        services.AddSingleton<IExecutionRuntimePort, ExecutionRuntimePort>();
        return services;
    }
}
