using Microsoft.Extensions.Diagnostics.HealthChecks;
using Triggers.Modular.BuildingBlocks.EventStore;

namespace Triggers.Modular.Host;

/// <summary>Ready when a read of the <c>$all</c> head succeeds within two seconds.</summary>
internal sealed class EventStoreHealthCheck(IEventStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            var head = await store.ReadHeadPositionAsync(timeout.Token);
            return HealthCheckResult.Healthy($"head {head}");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return HealthCheckResult.Unhealthy("The event store does not answer.", ex);
        }
    }
}
