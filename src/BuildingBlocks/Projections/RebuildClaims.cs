using System.Data.Common;
using Dapper;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.BuildingBlocks.Projections;

/// <summary>
/// Rows of <c>projection_rebuilds</c>: at most one rebuild of a projection at a time, whichever process or instance runs it
/// (two rebuilds would share the shadow tables' names: the second would drop the first's shadow, which then switches in a
/// table missing events). A claim not renewed within the timeout lapses; the final step checks it still holds under its lock.
/// </summary>
internal static class RebuildClaims
{
    /// <summary>Claims <paramref name="projection"/> for <paramref name="timeout"/> (a lapsed claim of another owner is taken over).</summary>
    public static async Task<bool> TryClaimAsync(IStoreDatabase database, string projection, string owner, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await database.BeginWriteTransactionAsync(connection, cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM projection_rebuilds WHERE name = @projection AND expires_ms < @now",
            new { projection, now }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var claimed = await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO projection_rebuilds (name, owner, expires_ms) VALUES (@projection, @owner, @expires) ON CONFLICT (name) DO NOTHING",
            new { projection, owner, expires = now + (long)timeout.TotalMilliseconds }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return claimed;
    }

    /// <summary>Renews the claim for <paramref name="timeout"/>; throws when it is no longer this owner's (it lapsed and another
    /// rebuild took it).</summary>
    public static async Task RenewAsync(IStoreDatabase database, string projection, string owner, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var renewed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE projection_rebuilds SET expires_ms = @expires WHERE name = @projection AND owner = @owner",
            new { projection, owner, expires = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (long)timeout.TotalMilliseconds },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (renewed != 1)
            throw new InvalidOperationException($"'{projection}': this rebuild's claim lapsed and was taken by another rebuild.");
    }

    /// <summary>Whether the claim is this owner's; <paramref name="forUpdate"/> (PostgreSQL) also locks the row until the end of
    /// <paramref name="tx"/>, so another rebuild cannot take a lapsed claim meanwhile.</summary>
    public static async Task<bool> HoldsAsync(DbConnection connection, DbTransaction tx, string projection, string owner, CancellationToken cancellationToken,
        bool forUpdate = false) =>
        (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT owner FROM projection_rebuilds WHERE name = @projection" + (forUpdate ? " FOR UPDATE" : ""),
            new { projection }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false)).SingleOrDefault() == owner;

    public static async Task ReleaseAsync(IStoreDatabase database, string projection, string owner)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await using var connection = await database.OpenConnectionAsync(timeout.Token).ConfigureAwait(false);
            await connection.ExecuteAsync(new CommandDefinition("DELETE FROM projection_rebuilds WHERE name = @projection AND owner = @owner",
                new { projection, owner }, cancellationToken: timeout.Token)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DbException or OperationCanceledException)
        {
            // The claim lapses on its own.
        }
    }
}
