using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Temporalio.Client;

namespace Triggers.Modular.Temporal.Hosting;

/// <summary>How the Temporal worker is doing, for the readiness check.</summary>
internal sealed class WorkerState(TimeProvider clock)
{
    private readonly Lock _lock = new();
    private (bool Running, string? Error, DateTimeOffset Since) _state = (false, null, clock.GetUtcNow());

    public (bool Running, string? Error, DateTimeOffset Since) Current
    {
        get
        {
            lock (_lock) return _state;
        }
    }

    public void Running()
    {
        lock (_lock) _state = (true, null, clock.GetUtcNow());
    }

    public void Failed(string error)
    {
        lock (_lock) _state = (false, error, _state.Running ? clock.GetUtcNow() : _state.Since);
    }
}

/// <summary>
/// Runs the worker service that <c>AddHostedTemporalWorker</c> registers, and starts it again when it fails — at start
/// when the server does not answer, or later. Without it, an unreachable Temporal server stops the whole host (a failed
/// hosted service stops the host), so the API would refuse events while Temporal is down; with it, events and executions
/// are still recorded (the dispatcher hands them to Temporal once it answers) and readiness reports the worker degraded.
/// The client connects here first, within <see cref="ConnectTimeout"/> (a server that accepts connections and never
/// answers would hold the worker's own connect, which cannot be cancelled, for half a minute).
/// </summary>
internal sealed partial class WorkerSupervisor(Func<IServiceProvider, object> createWorker, IServiceProvider services, ITemporalClient client,
    WorkerState state, TimeProvider clock, ILogger<WorkerSupervisor> logger) : BackgroundService
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = FirstDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = clock.GetUtcNow();
            IHostedService? worker = null;
            try
            {
                if (!client.Connection.IsConnected)
                    await client.Connection.ConnectAsync().WaitAsync(ConnectTimeout, clock, stoppingToken).ConfigureAwait(false);
                worker = (IHostedService)createWorker(services);
                await worker.StartAsync(stoppingToken).ConfigureAwait(false);
                var running = (worker as BackgroundService)?.ExecuteTask ?? Task.CompletedTask;
                if (!running.IsCompleted) state.Running();
                await running.WaitAsync(stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (stoppingToken.IsCancellationRequested)
                {
                    using var stop = new CancellationTokenSource(StopTimeout);
                    await worker.StopAsync(stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    return;
                }

                await running.ConfigureAwait(false);
                state.Failed("The worker stopped.");
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                state.Failed(ex is TimeoutException ? $"No answer from the server within {ConnectTimeout.TotalSeconds:0} s." : ex.Message);
                LogWorkerFailed(ex, delay.TotalSeconds);
            }
            finally
            {
                (worker as IDisposable)?.Dispose();
            }

            if (clock.GetUtcNow() - started > MaxDelay) delay = FirstDelay; // it ran a while: start over quickly
            await Task.Delay(delay, clock, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            delay = delay * 2 < MaxDelay ? delay * 2 : MaxDelay;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Temporal worker failed; starting it again in {DelaySeconds} s (executions are recorded meanwhile)")]
    private partial void LogWorkerFailed(Exception exception, double delaySeconds);
}

/// <summary>Readiness of the Temporal runtime: degraded (not unhealthy: the API still records events and executions) while
/// the worker does not run.</summary>
internal sealed class TemporalWorkerHealthCheck(WorkerState state, TemporalOptions options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (running, error, since) = state.Current;
        return Task.FromResult(running
            ? HealthCheckResult.Healthy($"worker polling task queue {options.TaskQueue} at {options.Address}")
            : HealthCheckResult.Degraded($"Temporal worker not running since {since:O} ({options.Address}): {error ?? "starting"}; " +
                "executions are recorded and start on Temporal once it answers."));
    }
}
