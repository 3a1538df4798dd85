using Prometheus;

namespace Triggers.Modular.Host.Observability;

/// <summary>
/// prometheus-net starts its default adapters (the meter listener among them) on the first collection; collecting
/// once at startup makes measurements taken before the first scrape count too.
/// </summary>
internal sealed class MeterAdapterStarter : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        Metrics.DefaultRegistry.CollectAndExportAsTextAsync(Stream.Null, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
