using System.Data.Common;
using System.Globalization;
using System.Text;
using Dapper;
using Microsoft.Data.Sqlite;
using Triggers.Modular.BuildingBlocks.EventStore.Subscriptions;

namespace Triggers.Modular.BuildingBlocks.EventStore.Sqlite;

/// <summary>The embedded event store: one SQLite file, WAL, one writer at a time (docs/adr/0002, 0003).</summary>
public sealed class SqliteEventStore(SqliteStoreDatabase database, EventStoreOptions options, TimeProvider clock)
    : IEventStore, IAppendTransactions, IEventHistory, IEventChain
{
    private const string Columns =
        "position, event_id, stream_name, revision, type, schema_version, data, tenant_id, environment, actor, " +
        "correlation_id, causation_id, created_at";

    public IAppendSignal AppendSignal => database.Signal;

    public async Task<AppendResult> AppendToStreamAsync(string stream, ExpectedRevision expected, IReadOnlyList<EventData> events,
        CancellationToken cancellationToken = default)
    {
        await using var pending = await BeginAppendAsync(stream, expected, events, cancellationToken).ConfigureAwait(false);
        return await pending.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IPendingAppend> BeginAppendAsync(string stream, ExpectedRevision expected, IReadOnlyList<EventData> events,
        CancellationToken cancellationToken = default)
    {
        AppendValidation.Validate(stream, events, options);
        await database.WriterGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        SqliteConnection? connection = null;
        DbTransaction? tx = null;
        try
        {
            connection = (SqliteConnection)await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            tx = await database.BeginWriteTransactionAsync(connection, cancellationToken).ConfigureAwait(false);
            var result = await AppendInTransactionAsync(connection, (SqliteTransaction)tx, stream, expected, events).ConfigureAwait(false);
            return new PendingAppend(database, connection, tx, result);
        }
        catch
        {
            if (tx is not null) await tx.DisposeAsync().ConfigureAwait(false);
            if (connection is not null) await connection.DisposeAsync().ConfigureAwait(false);
            database.WriterGate.Release();
            throw;
        }
    }

    private async Task<AppendResult> AppendInTransactionAsync(SqliteConnection connection, SqliteTransaction tx, string stream,
        ExpectedRevision expected, IReadOnlyList<EventData> events)
    {
        var head = await connection.QuerySingleOrDefaultAsync<StreamHeadRow>(
            "SELECT revision AS Revision, last_hash AS LastHash FROM es_streams WHERE stream_name = @stream", new { stream }, tx).ConfigureAwait(false);
        var current = head?.Revision ?? StreamRevision.None;

        var stored = (await connection.QueryAsync<StoredIdRow>(
            "SELECT event_id AS EventId, stream_name AS StreamName, revision AS Revision, position AS Position " +
            "FROM es_events WHERE event_id IN @ids",
            new { ids = events.Select(e => e.EventId.ToString()).ToArray() }, tx).ConfigureAwait(false)).ToList();
        if (stored.Count > 0)
            return IdempotenceRule.Evaluate(stream, expected, events,
                stored.Select(s => new IdempotenceRule.StoredId(Guid.Parse(s.EventId), s.StreamName, s.Revision, new GlobalPosition(s.Position, s.Position))).ToList(),
                current);

        if (!expected.IsSatisfiedBy(current))
            throw new WrongExpectedRevisionException(stream, expected, current);

        var category = StreamName.CategoryOf(stream);
        // Microseconds, as on PostgreSQL: the digest covers the stored value (docs/adr/0016).
        var createdAtTime = EventHash.Normalize(clock.GetUtcNow());
        var createdAt = createdAtTime.ToString("O", CultureInfo.InvariantCulture);
        await using var insert = connection.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText =
            "INSERT INTO es_events (event_id, stream_name, category, revision, type, schema_version, data, tenant_id, " +
            "environment, actor, correlation_id, causation_id, created_at, hash) VALUES ($id, $stream, $category, $revision, $type, " +
            "$version, $data, $tenant, $environment, $actor, $correlation, $causation, $created, $hash) RETURNING position";
        var p = new Dictionary<string, SqliteParameter>();
        foreach (var name in new[] { "$id", "$stream", "$category", "$revision", "$type", "$version", "$data", "$tenant", "$environment", "$actor", "$correlation", "$causation", "$created", "$hash" })
            p[name] = insert.Parameters.Add(new SqliteParameter { ParameterName = name });
        p["$stream"].Value = stream;
        p["$category"].Value = category;
        p["$created"].Value = createdAt;

        long position = 0;
        var previous = head?.LastHash ?? EventHash.Genesis();
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            previous = EventHash.Link(previous, EventHash.Digest(e.EventId, stream, e.Type, e.SchemaVersion, e.Data, e.Metadata, createdAtTime), current + 1 + i);
            p["$hash"].Value = previous;
            p["$id"].Value = e.EventId.ToString();
            p["$revision"].Value = current + 1 + i;
            p["$type"].Value = e.Type;
            p["$version"].Value = e.SchemaVersion;
            p["$data"].Value = e.Data;
            p["$tenant"].Value = (object?)e.Metadata.TenantId ?? DBNull.Value;
            p["$environment"].Value = (object?)e.Metadata.Environment ?? DBNull.Value;
            p["$actor"].Value = (object?)e.Metadata.Actor ?? DBNull.Value;
            p["$correlation"].Value = (object?)e.Metadata.CorrelationId ?? DBNull.Value;
            p["$causation"].Value = (object?)e.Metadata.CausationId ?? DBNull.Value;
            position = (long)(await insert.ExecuteScalarAsync().ConfigureAwait(false))!;
        }

        var next = current + events.Count;
        await connection.ExecuteAsync(
            "INSERT INTO es_streams (stream_name, revision, last_hash) VALUES (@stream, @next, @previous) " +
            "ON CONFLICT (stream_name) DO UPDATE SET revision = excluded.revision, last_hash = excluded.last_hash", new { stream, next, previous }, tx)
            .ConfigureAwait(false);
        return new AppendResult(next, new GlobalPosition(position, position));
    }

    public async Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string stream, ReadDirection direction, long fromRevision,
        int maxCount, CancellationToken cancellationToken = default)
    {
        StreamName.Validate(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        var sql = direction == ReadDirection.Forward
            ? $"SELECT {Columns} FROM es_events WHERE stream_name = @stream AND revision >= @from ORDER BY revision LIMIT @max"
            : $"SELECT {Columns} FROM es_events WHERE stream_name = @stream AND revision <= @from ORDER BY revision DESC LIMIT @max";
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<EventRow>(new CommandDefinition(sql,
            new { stream, from = fromRevision, max = maxCount }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => r.ToRecorded()).ToList();
    }

    public async Task<AllSlice> ReadAllForwardAsync(GlobalPosition after, int maxCount, AllFilter? filter = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        var parameters = new DynamicParameters(new { after = after.Commit, max = maxCount });
        var where = FilterSql(filter, parameters);
        // One statement, one snapshot: the head is read in the same snapshot as the page.
        var sql = $"SELECT {Columns}, (SELECT MAX(position) FROM es_events) AS head FROM es_events " +
                  $"WHERE position > @after{where} ORDER BY position LIMIT @max";
        await using var connection = (SqliteConnection)await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // A deferred read transaction: one WAL snapshot for the page and the head, and no writer lock.
        await using var tx = connection.BeginTransaction(deferred: true);
        var rows = (await connection.QueryAsync<EventRow>(new CommandDefinition(sql, parameters, tx, cancellationToken: cancellationToken))
            .ConfigureAwait(false)).AsList();
        long head;
        if (rows.Count > 0)
            head = rows[0].Head ?? 0;
        else
            head = await connection.ExecuteScalarAsync<long?>("SELECT MAX(position) FROM es_events", transaction: tx).ConfigureAwait(false) ?? 0;
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);

        var events = rows.Select(r => r.ToRecorded()).ToList();
        var full = events.Count == maxCount;
        var scanned = full ? events[^1].Position : new GlobalPosition(Math.Max(head, after.Commit), Math.Max(head, after.Commit));
        return new AllSlice(events, scanned, IsEnd: !full || scanned.Commit >= head, HeldBack: false);
    }

    public async Task<GlobalPosition> ReadHeadPositionAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var head = await connection.ExecuteScalarAsync<long?>("SELECT MAX(position) FROM es_events").ConfigureAwait(false) ?? 0;
        return new GlobalPosition(head, head);
    }

    public async Task<long> CountAllAfterAsync(GlobalPosition after, AllFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var parameters = new DynamicParameters(new { after = after.Commit });
        var where = FilterSql(filter, parameters);
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT COUNT(*) FROM es_events WHERE position > @after{where}", parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<RecordedEvent>> ReadAsync(HistoryQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        var backward = query.Direction == ReadDirection.Backward;
        var parameters = new DynamicParameters(new { tenant = query.TenantId, environment = query.Environment, max = query.Limit });
        var sql = new StringBuilder($"SELECT {Columns} FROM es_events WHERE tenant_id = @tenant AND environment = @environment");
        if (query.After is { } after)
        {
            sql.Append(backward ? " AND position < @after" : " AND position > @after");
            parameters.Add("after", after.Commit);
        }

        SqlClauses.AndIf(sql, parameters, " AND stream_name = @stream", "stream", query.Stream);
        SqlClauses.AndIf(sql, parameters, " AND category = @category", "category", query.Category);
        SqlClauses.AndIf(sql, parameters, " AND type = @type", "type", query.Type);
        SqlClauses.AndIf(sql, parameters, " AND substr(type, 1, length(@typePrefix)) = @typePrefix", "typePrefix", query.TypePrefix);
        // created_at is stored as the round-trip ("O") text of a UTC time: fixed width, so text order is time order.
        SqlClauses.AndIf(sql, parameters, " AND created_at >= @from", "from", query.From?.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        SqlClauses.AndIf(sql, parameters, " AND created_at < @to", "to", query.To?.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        SqlClauses.AndIf(sql, parameters, " AND correlation_id = @correlation", "correlation", query.CorrelationId);
        SqlClauses.AndIf(sql, parameters, " AND actor = @actor", "actor", query.Actor);
        sql.Append(backward ? " ORDER BY position DESC LIMIT @max" : " ORDER BY position LIMIT @max");
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<EventRow>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken))
            .ConfigureAwait(false);
        return [.. rows.Select(r => r.ToRecorded())];
    }

    public async Task<IReadOnlyList<ChainRow>> ReadAsync(GlobalPosition after, int maxCount, string? tenantId, string? environment,
        CancellationToken cancellationToken = default)
    {
        var scope = tenantId is null ? "" : " AND tenant_id = @tenantId AND environment = @environment";
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<EventRow>(new CommandDefinition(
            $"SELECT {Columns}, hash, category FROM es_events WHERE position > @after{scope} ORDER BY position LIMIT @max",
            new { after = after.Commit, max = maxCount, tenantId, environment }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. rows.Select(r => new ChainRow(r.ToRecorded(), r.Hash, r.Category ?? ""))];
    }

    public async Task<ChainRow?> ReadAtAsync(string stream, long revision, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<EventRow>(new CommandDefinition(
            $"SELECT {Columns}, hash, category FROM es_events WHERE stream_name = @stream AND revision = @revision", new { stream, revision },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row is null ? null : new ChainRow(row.ToRecorded(), row.Hash, row.Category ?? "");
    }

    public async Task<IReadOnlyDictionary<string, StreamHead>> ReadHeadsAsync(IReadOnlyList<string> streams, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var heads = await connection.QueryAsync<NamedHeadRow>(new CommandDefinition(
            "SELECT stream_name AS StreamName, revision AS Revision, last_hash AS LastHash FROM es_streams WHERE stream_name IN @streams", new { streams },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return heads.ToDictionary(h => h.StreamName, h => new StreamHead(h.Revision, h.LastHash), StringComparer.Ordinal);
    }

    public async Task<GlobalPosition> ReadChainStartAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var position = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT position FROM es_chain_start", cancellationToken: cancellationToken)).ConfigureAwait(false) ?? 0;
        return new GlobalPosition(position, position);
    }

    private static string FilterSql(AllFilter? filter, DynamicParameters parameters)
    {
        if (filter is null) return string.Empty;
        var sql = new StringBuilder();
        if (filter.Categories is { Count: > 0 })
        {
            sql.Append(" AND category IN @categories");
            parameters.Add("categories", filter.Categories.ToArray());
        }

        if (filter.EventTypePrefixes is { Count: > 0 })
        {
            sql.Append(" AND (");
            for (var i = 0; i < filter.EventTypePrefixes.Count; i++)
            {
                if (i > 0) sql.Append(" OR ");
                sql.Append(CultureInfo.InvariantCulture, $"substr(type, 1, length(@prefix{i})) = @prefix{i}");
                parameters.Add($"prefix{i}", filter.EventTypePrefixes[i]);
            }

            sql.Append(')');
        }

        if (filter.TenantId is not null)
        {
            sql.Append(" AND tenant_id = @tenant");
            parameters.Add("tenant", filter.TenantId);
        }

        if (filter.Environment is not null)
        {
            sql.Append(" AND environment = @environment");
            parameters.Add("environment", filter.Environment);
        }

        return sql.ToString();
    }

    private sealed class PendingAppend(SqliteStoreDatabase database, SqliteConnection connection, DbTransaction tx, AppendResult result)
        : IPendingAppend
    {
        private bool _done;

        public AppendResult Result => result;

        public async Task<AppendResult> CommitAsync(CancellationToken cancellationToken = default)
        {
            if (!result.WasIdempotentReplay)
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            await FinishAsync().ConfigureAwait(false);
            if (!result.WasIdempotentReplay) database.Signal.Notify();
            return result;
        }

        public ValueTask DisposeAsync() => FinishAsync();

        private async ValueTask FinishAsync()
        {
            if (_done) return;
            _done = true;
            await tx.DisposeAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
            database.WriterGate.Release();
        }
    }

    private sealed record StoredIdRow(string EventId, string StreamName, long Revision, long Position);

    private sealed record StreamHeadRow(long Revision, byte[]? LastHash);

    private sealed record NamedHeadRow(string StreamName, long Revision, byte[]? LastHash);

    private sealed class EventRow
    {
        public long Position { get; init; }
        public string Event_Id { get; init; } = "";
        public string Stream_Name { get; init; } = "";
        public long Revision { get; init; }
        public string Type { get; init; } = "";
        public long Schema_Version { get; init; }
        public string Data { get; init; } = "";
        public string? Tenant_Id { get; init; }
        public string? Environment { get; init; }
        public string? Actor { get; init; }
        public string? Correlation_Id { get; init; }
        public string? Causation_Id { get; init; }
        public string Created_At { get; init; } = "";
        public long? Head { get; init; }
        public byte[]? Hash { get; init; }
        public string? Category { get; init; }

        public RecordedEvent ToRecorded() => new(
            Guid.Parse(Event_Id), Stream_Name, Revision, new GlobalPosition(Position, Position), Type, (int)Schema_Version, Data,
            new EventMetadata(Tenant_Id, Environment, Actor, Correlation_Id, Causation_Id),
            DateTimeOffset.Parse(Created_At, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind));
    }
}
