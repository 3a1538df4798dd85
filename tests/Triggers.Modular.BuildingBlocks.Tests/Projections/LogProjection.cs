using Dapper;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.BuildingBlocks.Tests.Projections;

/// <summary>
/// A read model that records every application: one row per (event, application), so a double apply shows up as
/// two rows, and a per-stream summary row whose content depends on the order of application.
/// </summary>
internal sealed class LogProjection(string name = "log", AllFilter? filter = null) : IProjection
{
    public string Name => name;
    public AllFilter? Filter => filter;

    /// <summary>Its tables, so that it can be rebuilt beside them (it writes through <see cref="ProjectionContext.Table"/>).</summary>
    public IReadOnlyList<string> Tables(StoreDialect dialect) => ["proj_log", "proj_summary"];

    /// <summary>Throws after writing, inside the page's transaction, for the first time it sees this event.</summary>
    public Guid? FailOnceAfterWriting { get; set; }

    public int Failures { get; private set; }

    public static async Task CreateTablesAsync(IStoreDatabase database)
    {
        await using var c = await database.OpenConnectionAsync();
        await c.ExecuteAsync(
            "CREATE TABLE proj_log (event_id TEXT NOT NULL, stream_name TEXT NOT NULL, revision BIGINT NOT NULL, " +
            "commit_position BIGINT NOT NULL, prepare_position BIGINT NOT NULL)");
        await c.ExecuteAsync("CREATE INDEX ix_proj_log_stream ON proj_log (stream_name, revision)");
        await c.ExecuteAsync("CREATE TABLE proj_summary (stream_name TEXT PRIMARY KEY, events BIGINT NOT NULL, types TEXT NOT NULL)");
    }

    public async Task ApplyAsync(RecordedEvent e, ProjectionContext context, CancellationToken cancellationToken)
    {
        await context.Connection.ExecuteAsync(
            $"INSERT INTO {context.Table("proj_log")} (event_id, stream_name, revision, commit_position, prepare_position) VALUES (@id, @stream, @revision, @c, @p)",
            new { id = e.EventId.ToString(), stream = e.StreamName, revision = e.Revision, c = e.Position.Commit, p = e.Position.Prepare },
            context.Transaction);
        var summary = context.Table("proj_summary");
        await context.Connection.ExecuteAsync(
            $"INSERT INTO {summary} (stream_name, events, types) VALUES (@stream, 1, @type) " +
            $"ON CONFLICT (stream_name) DO UPDATE SET events = {summary}.events + 1, types = {summary}.types || ',' || excluded.types",
            new { stream = e.StreamName, type = e.Type }, context.Transaction);
        if (FailOnceAfterWriting == e.EventId)
        {
            FailOnceAfterWriting = null;
            Failures++;
            throw new InvalidOperationException("Injected failure between the read-model write and the checkpoint.");
        }
    }

    public async Task ResetAsync(ProjectionContext context, CancellationToken cancellationToken)
    {
        await context.Connection.ExecuteAsync("DELETE FROM proj_log", transaction: context.Transaction);
        await context.Connection.ExecuteAsync("DELETE FROM proj_summary", transaction: context.Transaction);
    }

    public static async Task<List<(string EventId, long Applications)>> ApplicationsAsync(IStoreDatabase database)
    {
        await using var c = await database.OpenConnectionAsync();
        return (await c.QueryAsync<(string, long)>(
            "SELECT event_id, COUNT(*) FROM proj_log GROUP BY event_id ORDER BY event_id")).ToList();
    }

    public static async Task<List<string>> SummaryAsync(IStoreDatabase database)
    {
        await using var c = await database.OpenConnectionAsync();
        return (await c.QueryAsync<(string, long, string)>("SELECT stream_name, events, types FROM proj_summary ORDER BY stream_name"))
            .Select(r => $"{r.Item1}|{r.Item2}|{r.Item3}").ToList();
    }
}
