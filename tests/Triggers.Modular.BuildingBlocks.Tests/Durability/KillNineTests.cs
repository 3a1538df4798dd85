using System.Diagnostics;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Tests.Support;

namespace Triggers.Modular.BuildingBlocks.Tests.Durability;

/// <summary>
/// A real writer process appends with four concurrent writers and is killed with SIGKILL mid-stream; every append it
/// acknowledged must be in the store afterwards, exactly once, with contiguous revisions.
/// </summary>
public abstract class KillNineContract
{
    protected abstract StoreKind Kind { get; }

    [Fact]
    public async Task Given_a_writer_killed_with_sigkill_When_the_store_is_reopened_Then_every_acknowledged_event_is_there_once()
    {
        await using var h = await StoreHarness.CreateAsync(Kind);
        var target = Kind == StoreKind.Sqlite ? h.SqlitePath! : h.PostgresConnectionString!;
        var acked = new HashSet<Guid>();

        using (var writer = Process.Start(new ProcessStartInfo("dotnet")
               {
                   ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Triggers.Modular.CrashWriter.dll"), Kind == StoreKind.Sqlite ? "sqlite" : "postgres", target },
                   RedirectStandardOutput = true,
                   RedirectStandardError = true,
               })!)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (acked.Count < 400 && DateTime.UtcNow < deadline)
            {
                var line = await writer.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException(
                    "Writer exited early: " + await writer.StandardError.ReadToEndAsync());
                if (line.StartsWith("ACK ", StringComparison.Ordinal)) acked.Add(Guid.Parse(line[4..]));
            }

            writer.Kill(entireProcessTree: true); // SIGKILL on Linux: no flush, no dispose, no shutdown hooks
            await writer.WaitForExitAsync();
            // Acknowledgements already in the pipe when it died were acknowledged too.
            while (await writer.StandardOutput.ReadLineAsync() is { } rest)
                if (rest.StartsWith("ACK ", StringComparison.Ordinal)) acked.Add(Guid.Parse(rest[4..]));
        }

        Assert.True(acked.Count >= 400, $"only {acked.Count} acknowledgements before the deadline");
        var stored = new List<RecordedEvent>();
        var reader = await h.OpenPeerAsync();
        var readDeadline = DateTime.UtcNow.AddSeconds(60);
        for (var after = GlobalPosition.Start; DateTime.UtcNow < readDeadline;)
        {
            var slice = await reader.ReadAllForwardAsync(after, 1000);
            stored.AddRange(slice.Events);
            after = slice.ScannedUpTo;
            if (slice.IsEnd && !slice.HeldBack) break;
            // PostgreSQL's xmin is cluster-wide: a transaction held open by another test holds back what we can read.
            if (slice.IsEnd) await Task.Delay(20);
        }

        var storedIds = stored.Select(e => e.EventId).ToList();
        Assert.Equal(storedIds.Count, storedIds.Distinct().Count());
        Assert.Empty(acked.Except(storedIds));
        foreach (var stream in stored.GroupBy(e => e.StreamName))
            Assert.Equal(Enumerable.Range(0, stream.Count()).Select(i => (long)i), stream.Select(e => e.Revision));
    }
}

public sealed class SqliteKillNineTests : KillNineContract
{
    protected override StoreKind Kind => StoreKind.Sqlite;
}

public sealed class PostgresKillNineTests : KillNineContract
{
    protected override StoreKind Kind => StoreKind.Postgres;
}
