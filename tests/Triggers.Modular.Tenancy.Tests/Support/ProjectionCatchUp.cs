using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Tenancy.ReadModel;

namespace Triggers.Modular.Tenancy.Tests.Support;

internal static class ProjectionCatchUp
{
    private static readonly ProjectionRunnerOptions Fast = new() { PollInterval = TimeSpan.FromMilliseconds(50), RetryDelay = TimeSpan.FromMilliseconds(50) };

    /// <summary>Runs the tenancy projection of <paramref name="services"/> until it has applied every event committed now.</summary>
    public static async Task RunAsync(IServiceProvider services)
    {
        var store = services.GetRequiredService<IEventStore>();
        var projection = services.GetServices<IProjection>().Single(p => p.Name == TenancyProjection.ProjectionName);
        var target = (await AllEvents.ReadAsync(store)).LastOrDefault()?.Position ?? GlobalPosition.Start;
        var runner = new ProjectionRunner(projection, store, services.GetRequiredService<IStoreDatabase>(), Fast, NullLogger.Instance);
        using var cts = new CancellationTokenSource();
        var run = runner.RunAsync(cts.Token);
        try
        {
            await Poll.UntilAsync(() => Task.FromResult(runner.State == ProjectionState.Live && runner.Checkpoint >= target));
        }
        finally
        {
            await cts.CancelAsync();
            await run;
        }
    }
}
