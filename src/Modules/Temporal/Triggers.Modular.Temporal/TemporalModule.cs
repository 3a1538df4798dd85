using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Temporalio.Client;
using Microsoft.Extensions.Hosting;
using Temporalio.Extensions.Hosting;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.Temporal.Contracts;
using Triggers.Modular.Temporal.Dispatch;
using Triggers.Modular.Temporal.Hosting;
using Triggers.Modular.Temporal.Workflows;

namespace Triggers.Modular.Temporal;

internal sealed class TemporalModule : ITemporalModule;

public static class TemporalModuleRegistration
{
    /// <summary>Registers the module. With <c>Executions:Runtime:Mode=temporal</c> (docs/adr/0017): a Temporal client from the
    /// <c>Temporal</c> section, a hosted worker on its task queue running the executions' workflow and activities, and the
    /// processor that starts and cancels workflows as executions are recorded. Otherwise nothing runs.</summary>
    public static IServiceCollection AddTemporalModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton<ITemporalModule, TemporalModule>();
        if (!string.Equals(configuration["Executions:Runtime:Mode"], "temporal", StringComparison.OrdinalIgnoreCase)) return services;

        var options = new TemporalOptions();
        configuration.GetSection("Temporal").Bind(options);
        if (options.Problems() is { Count: > 0 } problems)
            throw new InvalidOperationException("The Temporal runtime is misconfigured: " + string.Join(" ", problems));
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddTemporalClient(client =>
        {
            client.TargetHost = options.Address;
            client.Namespace = options.Namespace;
            if (!string.IsNullOrEmpty(options.ApiKey)) client.ApiKey = options.ApiKey;
            if (options.UsesTls)
                client.Tls = new TlsOptions
                {
                    ClientCert = string.IsNullOrEmpty(options.ClientCertPath) ? null : File.ReadAllBytes(options.ClientCertPath),
                    ClientPrivateKey = string.IsNullOrEmpty(options.ClientKeyPath) ? null : File.ReadAllBytes(options.ClientKeyPath),
                    ServerRootCACert = string.IsNullOrEmpty(options.ServerRootCaPath) ? null : File.ReadAllBytes(options.ServerRootCaPath),
                    Domain = options.ServerName,
                };
        });
        var before = services.Count;
        services.AddHostedTemporalWorker(options.TaskQueue)
            .AddSingletonActivities<ExecutionActivities>()
            .AddWorkflow<ExecutionWorkflow>()
            .ConfigureOptions(worker => worker.MaxConcurrentActivities = options.MaxConcurrentActivities);
        // The worker service it registered runs under a supervisor that starts it again when it fails (WorkerSupervisor).
        var worker = services.Skip(before).Single(d => d.ServiceType == typeof(IHostedService) && d.ImplementationFactory is not null);
        services.Remove(worker);
        services.AddSingleton<WorkerState>();
        services.AddHostedService(sp => ActivatorUtilities.CreateInstance<WorkerSupervisor>(sp, worker.ImplementationFactory!));
        services.AddHealthChecks().AddCheck<TemporalWorkerHealthCheck>("temporal", tags: ["ready"]);
        services.AddEventProcessor<WorkflowDispatcher>();
        return services;
    }
}
