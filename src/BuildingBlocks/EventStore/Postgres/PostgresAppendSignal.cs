using Microsoft.Extensions.Logging;
using Npgsql;
using Triggers.Modular.BuildingBlocks.EventStore.Subscriptions;

namespace Triggers.Modular.BuildingBlocks.EventStore.Postgres;

/// <summary>
/// Wake-ups across processes with LISTEN/NOTIFY. Appends in this process wake local subscribers at once, and
/// coalesce into at most one NOTIFY in flight, sent after commit: NOTIFY inside the append transaction would
/// serialise every commit on PostgreSQL's notify-queue lock (docs/adr/0003). A lost NOTIFY (crash between
/// commit and send) costs one poll interval, never an event. Each NOTIFY carries this instance's id, so its own listener
/// ignores the echo (local subscribers were woken already), and NOTIFYs are sent at most every
/// <see cref="MinNotifyInterval"/>: under load one NOTIFY covers many appends (docs/adr/0013).
/// </summary>
public sealed class PostgresAppendSignal : IAppendSignal, IAsyncDisposable
{
    public const string Channel = "tm_event_store_appended";

    /// <summary>Other processes learn of appends at most this late (they poll as a fallback anyway).</summary>
    public static readonly TimeSpan MinNotifyInterval = TimeSpan.FromMilliseconds(5);

    private readonly string _instance = Guid.NewGuid().ToString("N");

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly InProcessAppendSignal _local = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _pendingNotify = new(0, 1);
    private readonly Task _listener;
    private readonly Task _notifier;

    public PostgresAppendSignal(NpgsqlDataSource dataSource, ILogger logger)
    {
        _dataSource = dataSource;
        _logger = logger;
        _listener = Task.Run(() => ListenAsync(_stop.Token));
        _notifier = Task.Run(() => NotifyLoopAsync(_stop.Token));
    }

    public Task NextAppend => _local.NextAppend;

    /// <summary>Called after a local commit.</summary>
    public void Appended()
    {
        _local.Notify();
        try
        {
            if (_pendingNotify.CurrentCount == 0) _pendingNotify.Release();
        }
        catch (SemaphoreFullException)
        {
            // A NOTIFY is already queued; this append rides on it.
        }
    }

    private async Task NotifyLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await _pendingNotify.WaitAsync(ct).ConfigureAwait(false);
                await using (var cmd = _dataSource.CreateCommand($"NOTIFY {Channel}, '{_instance}'"))
                    await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                // Appends signalled meanwhile ride on the next NOTIFY.
                await Task.Delay(MinNotifyInterval, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
            {
                _logger.LogWarning(ex, "NOTIFY failed; remote subscribers fall back to polling");
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            }
        }
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
                connection.Notification += (_, e) =>
                {
                    if (!string.Equals(e.Payload, _instance, StringComparison.Ordinal)) _local.Notify();
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                // Something may have been appended while we were not listening.
                _local.Notify();
                while (!ct.IsCancellationRequested)
                    await connection.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or System.IO.IOException)
            {
                _logger.LogWarning(ex, "LISTEN connection lost; reconnecting, subscribers poll meanwhile");
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_listener, _notifier).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopping
        }

        _stop.Dispose();
        _pendingNotify.Dispose();
    }
}
