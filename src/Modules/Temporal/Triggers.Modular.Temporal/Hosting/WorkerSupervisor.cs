using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Triggers.Modular.Temporal.Hosting;

/// <summary>How the Temporal worker is doing, for the readiness check.</summary>
internal sealed class WorkerState
{
    private readonly Lock _lock = new();
    private (bool Running, string? Error, DateTimeOffset Since) _state = (false, null, DateTimeOffset.UtcNow);

    public (bool Running, string? Error, DateTimeOffset Since) Current
    {
        get
        {
            lock (_lock) return _state;
        }
    }

    public void Running(DateTimeOffset now)
    {
        lock (_lock) _state = (true, null, now);
    }

    public void Failed(string error, DateTimeOffset now)
    {
        lock (_lock) _state = (false, error, _state.Running ? now : _state.Since);
    }
}

/// <summary>
/// Runs the worker service that <c>AddHostedTemporalWorker</c> registers, and starts it again when it fails — at start
/// when the server does not answer, or later. Without it, an unreachable Temporal server stops the whole host (a failed
/// hosted service stops the host), so the API would refuse events while Temporal is down; with it, events and executions
/// are still recorded (the dispatcher hands them to Temporal once it answers) and readiness reports the worker degraded.
/// </summary>
internal sealed partial class WorkerSupervisor(Func<IServiceProvider, object> createWorker, IServiceProvider services, WorkerState state,
    TimeProvider clock, ILogger<WorkerSupervisor> logger) : BackgroundService
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = FirstDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            var worker = (IHostedService)createWorker(services);
            var started = clock.GetUtcNow();
            try
            {
                await worker.StartAsync(stoppingToken).ConfigureAwait(false);
                var running = (worker as BackgroundService)?.ExecuteTask ?? Task.CompletedTask;
                // Connecting fails within a moment; a worker still up after that is running.
                await running.WaitAsync(SettleTime, clock, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (!running.IsCompleted) state.Running(clock.GetUtcNow());
                await running.WaitAsync(stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (stoppingToken.IsCancellationRequested)
                {
                    await worker.StopAsync(CancellationToken.None).ConfigureAwait(false);
                    return;
                }

                await running.ConfigureAwait(false);
                state.Failed("The worker stopped.", clock.GetUtcNow());
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                state.Failed(ex.Message, clock.GetUtcNow());
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
