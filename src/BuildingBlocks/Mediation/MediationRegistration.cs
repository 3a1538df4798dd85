using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Triggers.Modular.BuildingBlocks.Mediation;

public static class MediationRegistration
{
    /// <summary>
    /// The pipeline every module's mediator runs, outermost first: logging, tenant, validation, idempotency. Each
    /// module generates its own internal mediator (so handlers stay internal) and resolves these behaviours from the
    /// shared container; registered once here, whatever the number of modules.
    /// </summary>
    public static IServiceCollection AddMediatorPipeline(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(IdempotencyStore))) return services; // registered already
        services.TryAddScoped<RequestContext>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IdempotencyStore>();
        // Not TryAddEnumerable: every migration source is an EmbeddedMigrationSource, which it would count as a duplicate.
        services.AddSingleton(IdempotencyStore.Migrations);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, IdempotencySweeper>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped(typeof(IPipelineBehavior<,>), typeof(LoggingBehavior<,>)));
        services.TryAddEnumerable(ServiceDescriptor.Scoped(typeof(IPipelineBehavior<,>), typeof(TenantBehavior<,>)));
        services.TryAddEnumerable(ServiceDescriptor.Scoped(typeof(IPipelineBehavior<,>), typeof(ValidationBehavior<,>)));
        services.TryAddEnumerable(ServiceDescriptor.Scoped(typeof(IPipelineBehavior<,>), typeof(IdempotencyBehavior<,>)));
        return services;
    }
}

/// <summary>Deletes idempotency records past their 24 h retention, every ten minutes.</summary>
internal sealed class IdempotencySweeper(IdempotencyStore store, TimeProvider clock) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(10), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await store.SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Best effort; the next tick tries again and expired records are ignored meanwhile.
            }
        }
    }
}
