using System.Data.Common;
using Dapper;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.BuildingBlocks.Projections;

/// <summary>Checkpoint rows in <c>projection_checkpoints</c>, advanced only by compare-and-set.</summary>
public static class ProjectionCheckpoints
{
    public static IMigrationSource Migrations { get; } = new EmbeddedMigrationSource(
        "projections", typeof(ProjectionCheckpoints).Assembly, "Triggers.Modular.BuildingBlocks.Projections");

    public static async Task<GlobalPosition> LoadAsync(DbConnection connection, string name, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO projection_checkpoints (name, commit_position, prepare_position, updated_at) " +
            "VALUES (@name, 0, 0, @now) ON CONFLICT (name) DO NOTHING",
            new { name, now = DateTime.UtcNow }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return await ReadAsync(connection, name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the stored checkpoint without writing (the idle check of a running projection); 0 when there is none.</summary>
    public static Task<GlobalPosition> ReadAsync(DbConnection connection, string name, CancellationToken cancellationToken) =>
        ReadInAsync(connection, null, name, cancellationToken);

    /// <summary>Moves the checkpoint from <paramref name="expected"/> to <paramref name="next"/>; false if someone else moved it.</summary>
    public static async Task<bool> TryAdvanceAsync(DbConnection connection, DbTransaction transaction, string name,
        GlobalPosition expected, GlobalPosition next, CancellationToken cancellationToken)
    {
        var rows = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE projection_checkpoints SET commit_position = @nc, prepare_position = @np, updated_at = @now " +
            "WHERE name = @name AND commit_position = @oc AND prepare_position = @op",
            new { name, nc = next.Commit, np = next.Prepare, oc = expected.Commit, op = expected.Prepare, now = DateTime.UtcNow },
            transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows == 1;
    }

    public static Task ResetAsync(DbConnection connection, DbTransaction transaction, string name, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "UPDATE projection_checkpoints SET commit_position = 0, prepare_position = 0, updated_at = @now WHERE name = @name",
            new { name, now = DateTime.UtcNow }, transaction, cancellationToken: cancellationToken));

    /// <summary>Reads the checkpoint in <paramref name="transaction"/>, locking its row on PostgreSQL until the end of it (a page
    /// transaction of the runner then waits; SQLite's write transaction already excludes it).</summary>
    public static Task<GlobalPosition> ReadForUpdateAsync(DbConnection connection, DbTransaction transaction, StoreDialect dialect, string name,
        CancellationToken cancellationToken) =>
        ReadInAsync(connection, transaction, name, cancellationToken, dialect == StoreDialect.Postgres ? " FOR UPDATE" : "");

    /// <summary>Reads the checkpoint in <paramref name="transaction"/> (its snapshot), without locking.</summary>
    public static async Task<GlobalPosition> ReadInAsync(DbConnection connection, DbTransaction? transaction, string name,
        CancellationToken cancellationToken, string locking = "")
    {
        var row = await connection.QuerySingleOrDefaultAsync<(long Commit, long Prepare)?>(new CommandDefinition(
            "SELECT commit_position, prepare_position FROM projection_checkpoints WHERE name = @name" + locking,
            new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row is { } r ? new GlobalPosition(r.Commit, r.Prepare) : GlobalPosition.Start;
    }

    /// <summary>Sets the checkpoint unconditionally (a rebuild switching tables, holding the row).</summary>
    public static Task SetAsync(DbConnection connection, DbTransaction transaction, string name, GlobalPosition position, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "UPDATE projection_checkpoints SET commit_position = @c, prepare_position = @p, updated_at = @now WHERE name = @name",
            new { name, c = position.Commit, p = position.Prepare, now = DateTime.UtcNow }, transaction, cancellationToken: cancellationToken));
}
