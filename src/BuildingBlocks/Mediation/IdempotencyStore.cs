using Dapper;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.BuildingBlocks.Mediation;

/// <summary>What a claim on an idempotency key found.</summary>
public enum IdempotencyClaim
{
    /// <summary>The key is ours: run the command, then <see cref="IdempotencyStore.CompleteAsync"/> or <see cref="IdempotencyStore.ReleaseAsync"/>.</summary>
    Claimed,
    Completed,
    InProgress,
    DifferentRequest,
}

/// <summary>
/// Results of idempotent commands per tenant × environment × key, in the store's database. A key is claimed
/// (pending, with a lease) before the command runs and completed with the response after; a claim whose holder
/// crashed expires with its lease, and the retry runs the command again — safe because such commands derive their
/// event ids from the key.
/// </summary>
public sealed class IdempotencyStore(IStoreDatabase database, TimeProvider clock)
{
    public static IMigrationSource Migrations { get; } = new EmbeddedMigrationSource(
        "platform", typeof(IdempotencyStore).Assembly, "Triggers.Modular.BuildingBlocks.Mediation");

    public static TimeSpan Retention { get; } = TimeSpan.FromHours(24);

    public static TimeSpan Lease { get; } = TimeSpan.FromSeconds(60);

    private async Task<int> ExecuteWriteAsync(string sql, object args, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var tx = await database.BeginWriteTransactionAsync(connection, cancellationToken);
        var rows = await connection.ExecuteAsync(new CommandDefinition(sql, args, tx, cancellationToken: cancellationToken));
        await tx.CommitAsync(cancellationToken);
        return rows;
    }

    private string Table => database.Dialect == StoreDialect.Postgres ? "platform.idempotency_records" : "platform_idempotency_records";

    /// <summary>Claims <paramref name="key"/>; when <see cref="IdempotencyClaim.Claimed"/>, <c>ClaimId</c> identifies this claim to
    /// <see cref="CompleteAsync"/> and <see cref="ReleaseAsync"/>, so that a holder whose lease lapsed cannot touch its successor's.</summary>
    public async Task<(IdempotencyClaim Claim, string? ResponseJson, string? ClaimId)> ClaimAsync(TenantScope scope, string key, string requestHash,
        CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var claimId = Guid.NewGuid().ToString("N");
        var args = new
        {
            tenant = scope.TenantId, environment = scope.Environment, key, hash = requestHash, now, claimId,
            locked = now + (long)Lease.TotalMilliseconds, expires = now + (long)Retention.TotalMilliseconds,
        };
        await using var connection = await database.OpenConnectionAsync(cancellationToken);

        // Read first: a replay, a reused key or a live claim is answered without taking the write lock.
        var seen = await connection.QuerySingleOrDefaultAsync<(string RequestHash, string Status, string? ResponseJson, long LockedUntilMs, long ExpiresAtMs)>(
            new CommandDefinition(
                $"SELECT request_hash, status, response_json, locked_until_ms, expires_at_ms FROM {Table} WHERE tenant_id = @tenant AND environment = @environment AND idempotency_key = @key",
                args, cancellationToken: cancellationToken));
        if (seen.RequestHash is not null && seen.ExpiresAtMs >= now)
        {
            if (!string.Equals(seen.RequestHash, requestHash, StringComparison.Ordinal)) return (IdempotencyClaim.DifferentRequest, null, null);
            if (seen.Status == "completed") return (IdempotencyClaim.Completed, seen.ResponseJson, null);
            if (seen.LockedUntilMs >= now) return (IdempotencyClaim.InProgress, null, null);
        }

        await using var tx = await database.BeginWriteTransactionAsync(connection, cancellationToken);
        var inserted = await connection.ExecuteAsync(new CommandDefinition(
            $"""
             INSERT INTO {Table} (tenant_id, environment, idempotency_key, claim_id, request_hash, status, locked_until_ms, expires_at_ms)
             VALUES (@tenant, @environment, @key, @claimId, @hash, 'pending', @locked, @expires)
             ON CONFLICT DO NOTHING
             """, args, tx, cancellationToken: cancellationToken));
        if (inserted == 1)
        {
            await tx.CommitAsync(cancellationToken);
            return (IdempotencyClaim.Claimed, null, claimId);
        }

        // Take over a record past its retention, or a pending claim of the same request whose holder let the lease lapse.
        var taken = await connection.ExecuteAsync(new CommandDefinition(
            $"""
             UPDATE {Table} SET claim_id = @claimId, request_hash = @hash, status = 'pending', response_json = NULL, locked_until_ms = @locked, expires_at_ms = @expires
             WHERE tenant_id = @tenant AND environment = @environment AND idempotency_key = @key
               AND (expires_at_ms < @now OR (status = 'pending' AND locked_until_ms < @now AND request_hash = @hash))
             """, args, tx, cancellationToken: cancellationToken));
        if (taken == 1)
        {
            await tx.CommitAsync(cancellationToken);
            return (IdempotencyClaim.Claimed, null, claimId);
        }

        var row = await connection.QuerySingleOrDefaultAsync<(string RequestHash, string Status, string? ResponseJson)>(new CommandDefinition(
            $"SELECT request_hash, status, response_json FROM {Table} WHERE tenant_id = @tenant AND environment = @environment AND idempotency_key = @key",
            args, tx, cancellationToken: cancellationToken));
        await tx.CommitAsync(cancellationToken);
        if (!string.Equals(row.RequestHash, requestHash, StringComparison.Ordinal)) return (IdempotencyClaim.DifferentRequest, null, null);
        return row.Status == "completed" ? (IdempotencyClaim.Completed, row.ResponseJson, null) : (IdempotencyClaim.InProgress, null, null);
    }

    /// <summary>Stores the response; false when the claim is no longer ours (its lease lapsed and another request took over).</summary>
    public async Task<bool> CompleteAsync(TenantScope scope, string key, string claimId, string responseJson, CancellationToken cancellationToken) => 1 ==
        await
        ExecuteWriteAsync(
            $"""
             UPDATE {Table} SET status = 'completed', response_json = @responseJson, expires_at_ms = @expires
             WHERE tenant_id = @tenant AND environment = @environment AND idempotency_key = @key AND claim_id = @claimId AND status = 'pending'
             """,
            new
            {
                tenant = scope.TenantId, environment = scope.Environment, key, claimId, responseJson,
                expires = clock.GetUtcNow().ToUnixTimeMilliseconds() + (long)Retention.TotalMilliseconds,
            },
            cancellationToken);

    /// <summary>Gives a claim back after the command failed, so that a retry runs it again.</summary>
    public Task ReleaseAsync(TenantScope scope, string key, string claimId, CancellationToken cancellationToken) =>
        ExecuteWriteAsync(
            $"DELETE FROM {Table} WHERE tenant_id = @tenant AND environment = @environment AND idempotency_key = @key AND claim_id = @claimId AND status = 'pending'",
            new { tenant = scope.TenantId, environment = scope.Environment, key, claimId }, cancellationToken);

    /// <summary>Deletes records past their retention; returns how many.</summary>
    public Task<int> SweepAsync(CancellationToken cancellationToken) =>
        ExecuteWriteAsync($"DELETE FROM {Table} WHERE expires_at_ms < @now", new { now = clock.GetUtcNow().ToUnixTimeMilliseconds() },
            cancellationToken);

    /// <summary>How many records the scope holds for <paramref name="key"/> (0 or 1); for tests and diagnostics.</summary>
    public async Task<int> CountAsync(TenantScope scope, string key, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            $"SELECT COUNT(*) FROM {Table} WHERE tenant_id = @tenant AND environment = @environment AND idempotency_key = @key",
            new { tenant = scope.TenantId, environment = scope.Environment, key }, cancellationToken: cancellationToken));
    }
}
