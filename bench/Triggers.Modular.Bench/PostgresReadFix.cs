using Dapper;
using Npgsql;
using Triggers.Modular.BuildingBlocks.EventStore;

namespace Triggers.Modular.Bench;

/// <summary>
/// DIAGNOSTIC ONLY, not the product code: a copy of <c>PostgresEventStore.ReadAllForwardAsync</c> (unfiltered) with one
/// change to its SQL, to measure what the change would buy. In the shipped query the CTE <c>h</c> is inlined, so its
/// <c>EXISTS (… WHERE e.tx_id &gt;= x.xmin)</c> runs once per returned row, and the planner executes it as a sequential
/// scan of the whole table (it estimates a third of the rows match, so it expects to stop early; in a settled store
/// none match, so it reads every row): each page costs page size × table size. Here <c>h</c> is
/// <c>MATERIALIZED</c> (evaluated once) and the held-back test is an index probe of the newest row.
/// </summary>
internal static class PostgresReadFix
{
    private const string Columns =
        "e.tx_id, e.seq, e.event_id, e.stream_name, e.revision, e.type, e.schema_version, e.data::text AS data, e.tenant_id, " +
        "e.environment, e.actor, e.correlation_id, e.causation_id, e.created_at";

    private const string Sql =
        "WITH x AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin), " +
        "h AS MATERIALIZED (SELECT hd.tx_id AS head_tx, hd.seq AS head_seq, " +
        "COALESCE((SELECT n.tx_id FROM event_store.events n ORDER BY n.tx_id DESC, n.seq DESC LIMIT 1) >= x.xmin, false) AS held_back " +
        "FROM x LEFT JOIN LATERAL " +
        "(SELECT e.tx_id, e.seq FROM event_store.events e WHERE e.tx_id < x.xmin ORDER BY e.tx_id DESC, e.seq DESC LIMIT 1) hd ON true), " +
        $"page AS (SELECT {Columns} FROM event_store.events e, x WHERE (e.tx_id, e.seq) > (@c, @p) AND e.tx_id < x.xmin " +
        "ORDER BY e.tx_id, e.seq LIMIT @max) " +
        "SELECT h.head_tx, h.head_seq, h.held_back, page.* FROM h LEFT JOIN page ON true ORDER BY page.tx_id, page.seq";

    public static async Task<AllSlice> ReadAllForwardAsync(NpgsqlDataSource dataSource, GlobalPosition after, int maxCount)
    {
        var parameters = new DynamicParameters(new { c = after.Commit, p = after.Prepare, max = maxCount });
        await using var connection = await dataSource.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<EventRow>(new CommandDefinition(Sql, parameters))).AsList();

        var first = rows[0];
        var head = first.Head_Tx is null ? GlobalPosition.Start : new GlobalPosition(first.Head_Tx.Value, first.Head_Seq!.Value);
        var events = rows.Where(r => r.Event_Id is not null).Select(r => r.ToRecorded()).ToList();
        var full = events.Count == maxCount;
        var scanned = full ? events[^1].Position : (head > after ? head : after);
        return new AllSlice(events, scanned, IsEnd: !full || scanned >= head, HeldBack: first.Held_Back);
    }

    public static Task<PhaseResult> PhaseAsync(BenchOptions o, NpgsqlDataSource dataSource, long total) =>
        Phase.RunAsync("PostgreSQL", $"$all read: ReadAllForwardAsync, pages of {StorePhases.ReadPageSize}, PROPOSED FIX", 1,
            o.Warmup, o.Duration, _ =>
            {
                var after = GlobalPosition.Start;
                return Task.FromResult(new Writer(async () =>
                {
                    var slice = await ReadAllForwardAsync(dataSource, after, StorePhases.ReadPageSize);
                    after = slice.IsEnd ? GlobalPosition.Start : slice.ScannedUpTo;
                    return slice.Events.Count;
                }));
            }, $"diagnostic: bench copy of the adapter's read with the SQL fix (see PostgresReadFix.cs); {total:N0} events", minOps: 3);

    private sealed class EventRow
    {
        public long? Head_Tx { get; init; }
        public long? Head_Seq { get; init; }
        public bool Held_Back { get; init; }
        public long Tx_Id { get; init; }
        public long Seq { get; init; }
        public Guid? Event_Id { get; init; }
        public string Stream_Name { get; init; } = "";
        public long Revision { get; init; }
        public string Type { get; init; } = "";
        public int Schema_Version { get; init; }
        public string Data { get; init; } = "";
        public string? Tenant_Id { get; init; }
        public string? Environment { get; init; }
        public string? Actor { get; init; }
        public string? Correlation_Id { get; init; }
        public string? Causation_Id { get; init; }
        public DateTime Created_At { get; init; }

        public RecordedEvent ToRecorded() => new(
            Event_Id!.Value, Stream_Name, Revision, new GlobalPosition(Tx_Id, Seq), Type, Schema_Version, Data,
            new EventMetadata(Tenant_Id, Environment, Actor, Correlation_Id, Causation_Id),
            new DateTimeOffset(DateTime.SpecifyKind(Created_At, DateTimeKind.Utc)));
    }
}
