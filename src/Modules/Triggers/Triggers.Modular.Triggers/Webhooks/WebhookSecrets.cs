using System.Security.Cryptography;
using Dapper;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.Triggers.Webhooks;

/// <summary>
/// The secrets of webhook triggers, in a table of their own beside the read models (ADR 0014): never in an event, a log line
/// or a later response. Each trigger has numbered versions; the newest always verifies, the older ones until their
/// <c>expires_at</c> (the overlap of a rotation). HMAC needs the secret itself, so it is stored as issued: protect the
/// database as you protect these secrets.
/// </summary>
internal sealed class WebhookSecrets(IStoreDatabase database, TimeProvider clock)
{
    public const string StandardPrefix = "whsec_";
    public const string TokenPrefix = "whk_";

    private string Table => database.Dialect == StoreDialect.Postgres ? "triggers.webhook_secrets" : "triggers_webhook_secrets";

    /// <summary>A new random secret: <c>whsec_</c> + base64 of 32 bytes for HMAC (the Standard Webhooks form; GitHub and plain
    /// use the whole string as the key), <c>whk_</c> + 52 base32 characters for API keys and bearer tokens.</summary>
    public static string Generate(string authType) => authType == "hmac"
        ? StandardPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
        : TokenPrefix + BuildingBlocks.Ids.PrefixedId.RandomSecret(32);

    /// <summary>Stores version 1 unless the trigger already has a secret; true when <paramref name="secret"/> was stored.</summary>
    public async Task<bool> IssueAsync(string triggerId, string secret, CancellationToken cancellationToken) =>
        await InsertFirstAsync(triggerId, secret, "DO NOTHING", cancellationToken).ConfigureAwait(false) == 1;

    /// <summary>Replaces the secret of a trigger that does not exist yet (a create retried after a crash may have stored one).</summary>
    public Task ReplaceInitialAsync(string triggerId, string secret, CancellationToken cancellationToken) =>
        InsertFirstAsync(triggerId, secret, "DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at", cancellationToken);

    private async Task<int> InsertFirstAsync(string triggerId, string secret, string onConflict, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO {Table} (trigger_id, version, secret, created_at, expires_at) VALUES (@triggerId, 1, @secret, @now, NULL) " +
            $"ON CONFLICT (trigger_id, version) {onConflict}",
            new { triggerId, secret, now = SqlTime.Parameter(database.Dialect, clock.GetUtcNow()) }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Adds <paramref name="secret"/> as the newest version; every older version stops verifying at
    /// <paramref name="previousExpireAt"/> (or earlier, when it was already going to). Returns the new version.</summary>
    public async Task<int> RotateAsync(string triggerId, string secret, DateTimeOffset previousExpireAt, CancellationToken cancellationToken)
    {
        var d = database.Dialect;
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await database.BeginWriteTransactionAsync(connection, cancellationToken).ConfigureAwait(false);
        var args = new { triggerId, secret, now = SqlTime.Parameter(d, clock.GetUtcNow()), until = SqlTime.Parameter(d, previousExpireAt) };
        await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE {Table} SET expires_at = @until WHERE trigger_id = @triggerId AND (expires_at IS NULL OR expires_at > @until)",
            args, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var version = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            $"SELECT COALESCE(MAX(version), 0) + 1 FROM {Table} WHERE trigger_id = @triggerId", args, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var inserted = await connection.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO {Table} (trigger_id, version, secret, created_at, expires_at) VALUES (@triggerId, @version, @secret, @now, NULL) " +
            "ON CONFLICT (trigger_id, version) DO NOTHING",
            new { args.triggerId, version, args.secret, args.now }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (inserted == 0) throw new ConflictException("The secret was rotated by another request at the same moment; rotate again.", "concurrent-rotation");
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return version;
    }

    /// <summary>Every secret that has not expired yet, newest first, with its expiry (for the receiver's cache).</summary>
    public async Task<IReadOnlyList<StoredSecret>> UnexpiredAsync(string triggerId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(string Secret, object? ExpiresAt)>(new CommandDefinition(
            $"SELECT secret, expires_at FROM {Table} WHERE trigger_id = @triggerId AND (expires_at IS NULL OR expires_at > @now) ORDER BY version DESC",
            new { triggerId, now = SqlTime.Parameter(database.Dialect, clock.GetUtcNow()) }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. rows.Select(r => new StoredSecret(r.Secret, SqlTime.ReadNullable(r.ExpiresAt)))];
    }

    /// <summary>Forgets a deleted trigger's secrets.</summary>
    public async Task DeleteAsync(string triggerId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition($"DELETE FROM {Table} WHERE trigger_id = @triggerId", new { triggerId },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }
}
