using System.Data.Common;
using System.Text;
using System.Threading.Channels;
using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Triggers.Modular.BuildingBlocks.EventStore.Postgres;

/// <summary>
/// The event store on PostgreSQL. One round trip per append (the <c>event_store.append_events</c> function);
/// <c>$all</c> ordered by (tx_id, seq) and read only below the snapshot's xmin, so no event is ever skipped
/// (docs/adr/0003). Appends made at the same time are committed together (group commit, docs/adr/0013): a few committers
/// each take whatever is queued into one transaction, so under load many appends share one commit, and alone an append
/// is committed at once as before.
/// </summary>
public sealed class PostgresEventStore(PostgresStoreDatabase database, PostgresAppendSignal signal, EventStoreOptions options, TimeProvider clock)
    : IEventStore, IAppendTransactions, IEventHistory, IEventChain, IAsyncDisposable
{
    private readonly Channel<QueuedAppend> _queue = Channel.CreateUnbounded<QueuedAppend>(new UnboundedChannelOptions { SingleReader = false });
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _startGate = new();
    private Task[]? _committers;
    private bool _disposed;

    private const string Columns =
        "e.tx_id, e.seq, e.event_id, e.stream_name, e.revision, e.type, e.schema_version, e.data::text AS data, e.tenant_id, " +
        "e.environment, e.actor, e.correlation_id, e.causation_id, e.created_at";

    // Rows of transactions older than every transaction still in flight: nothing can commit before them any more.
    private const string Visible = "e.tx_id < (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint)";

    public IAppendSignal AppendSignal => signal;

    public async Task<AppendResult> AppendToStreamAsync(string stream, ExpectedRevision expected, IReadOnlyList<EventData> events,
        CancellationToken cancellationToken = default)
    {
        AppendValidation.Validate(stream, events, options);
        if (options.AppendCommitters <= 0 || events.Count > options.MaxEventsPerCommit)
            return await AppendAloneAsync(stream, expected, events, cancellationToken).ConfigureAwait(false);

        EnsureCommitters();
        var queued = new QueuedAppend(stream, expected, events);
        if (!_queue.Writer.TryWrite(queued)) throw new ObjectDisposedException(nameof(PostgresEventStore));
        // A caller that gives up stops waiting; its append may still be committed (as when a reply is lost).
        return await queued.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<AppendResult> AppendAloneAsync(string stream, ExpectedRevision expected, IReadOnlyList<EventData> events,
        CancellationToken cancellationToken)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var result = await AppendAsync(connection, null, stream, expected, events, cancellationToken).ConfigureAwait(false);
        if (!result.WasIdempotentReplay) signal.Appended();
        return result;
    }

    private void EnsureCommitters()
    {
        if (Volatile.Read(ref _committers) is not null) return;
        lock (_startGate)
        {
            if (_committers is not null) return;
            ObjectDisposedException.ThrowIf(_disposed, this);
            Volatile.Write(ref _committers, [.. Enumerable.Range(0, options.AppendCommitters).Select(_ => Task.Run(() => CommitLoopAsync(_stop.Token)))]);
        }
    }

    private async Task CommitLoopAsync(CancellationToken stop)
    {
        var batch = new List<QueuedAppend>();
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stop).ConfigureAwait(false))
            {
                batch.Clear();
                var events = 0;
                while (batch.Count < options.MaxAppendsPerCommit && _queue.Reader.TryPeek(out var next)
                       && (batch.Count == 0 || events + next.Events.Count <= options.MaxEventsPerCommit) && _queue.Reader.TryRead(out next))
                {
                    batch.Add(next);
                    events += next.Events.Count;
                }

                try
                {
                    if (batch.Count == 1) await CommitAloneAsync(batch[0], stop).ConfigureAwait(false);
                    else if (batch.Count > 1) await CommitTogetherAsync(batch, stop).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
                {
                    // Never leave a caller waiting, and keep committing for the others.
                    foreach (var append in batch) append.Completion.TrySetException(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // disposing
        }

        foreach (var left in batch) left.Completion.TrySetCanceled(stop);
    }

    private async Task CommitAloneAsync(QueuedAppend append, CancellationToken stop)
    {
        try
        {
            append.Completion.TrySetResult(await AppendAloneAsync(append.Stream, append.Expected, append.Events, stop).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            append.Completion.TrySetException(ex);
        }
    }

    /// <summary>
    /// One transaction for several appends: every stream's lock first (event_store.lock_streams), then each append as its
    /// own statement, all in one round trip. Each append gets its own outcome — written, wrong expected revision, replay
    /// or duplicate id — exactly as alone, handed out only after the commit. If the transaction fails as a whole (a
    /// concurrent writer of the same event ids, a broken connection), each append is retried alone.
    /// </summary>
    private async Task CommitTogetherAsync(List<QueuedAppend> batch, CancellationToken stop)
    {
        // Per append: written, refused, or some ids already stored (status 5: resolved below, once the results are read).
        var outcomes = new (AppendResult? Result, Exception? Error, long? IdsStoredAtRevision)[batch.Count];
        try
        {
            await using var connection = await database.DataSource.OpenConnectionAsync(stop).ConfigureAwait(false);
            await using var tx = await connection.BeginTransactionAsync(stop).ConfigureAwait(false);
            await using (var command = new NpgsqlBatch(connection, tx))
            {
                var locks = new NpgsqlBatchCommand("SELECT event_store.lock_streams($1)");
                locks.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. batch.Select(a => a.Stream)] });
                command.BatchCommands.Add(locks);
                foreach (var append in batch)
                {
                    var call = new NpgsqlBatchCommand(AppendSql);
                    AddAppendParameters(call.Parameters, append.Stream, append.Expected, append.Events);
                    command.BatchCommands.Add(call);
                }

                await using var reader = await command.ExecuteReaderAsync(stop).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    await reader.NextResultAsync(stop).ConfigureAwait(false);
                    await reader.ReadAsync(stop).ConfigureAwait(false);
                    var (status, current, txId, seq) = (reader.GetInt32(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
                    outcomes[i] = status switch
                    {
                        0 => (new AppendResult(current, new GlobalPosition(txId, seq)), null, null),
                        2 => (null, new WrongExpectedRevisionException(batch[i].Stream, batch[i].Expected, current), null),
                        _ => (null, null, current),
                    };
                }
            }

            for (var i = 0; i < batch.Count; i++)
            {
                if (outcomes[i].IdsStoredAtRevision is not { } current) continue;
                var append = batch[i];
                try
                {
                    var stored = await StoredIdsAsync(connection, tx, [.. append.Events.Select(e => e.EventId)], stop).ConfigureAwait(false);
                    outcomes[i] = (IdempotenceRule.Evaluate(append.Stream, append.Expected, append.Events, stored, current), null, null);
                }
                catch (Exception ex) when (ex is WrongExpectedRevisionException or DuplicateEventIdException)
                {
                    outcomes[i] = (null, ex, null);
                }
            }

            await tx.CommitAsync(stop).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            // Rolled back (or unknown, if the commit's answer was lost): alone, each append either finds its events
            // (a replay, by event id) or writes them, or fails with its own error.
            EventStoreMetrics.GroupCommitFallbacks.Add(1);
            await Task.WhenAll(batch.Select(a => CommitAloneAsync(a, stop))).ConfigureAwait(false);
            return;
        }

        EventStoreMetrics.GroupCommits.Record(batch.Count);
        var written = false;
        for (var i = 0; i < batch.Count; i++)
        {
            if (outcomes[i].Result is { } result)
            {
                written |= !result.WasIdempotentReplay;
                batch[i].Completion.TrySetResult(result);
            }
            else
            {
                batch[i].Completion.TrySetException(outcomes[i].Error!);
            }
        }

        if (written) signal.Appended();
    }

    public async ValueTask DisposeAsync()
    {
        Task[]? committers;
        lock (_startGate)
        {
            // The container may dispose this instance twice (registered as itself and as IEventStore).
            if (_disposed) return;
            _disposed = true;
            _queue.Writer.TryComplete();
            committers = _committers;
        }

        if (committers is not null)
        {
            // Let queued appends finish; then stop.
            var drained = Task.WhenAll(committers);
            if (await Task.WhenAny(drained, Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false) != drained)
                await _stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await drained.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // stopped
            }
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private sealed class QueuedAppend(string stream, ExpectedRevision expected, IReadOnlyList<EventData> events)
    {
        public string Stream => stream;
        public ExpectedRevision Expected => expected;
        public IReadOnlyList<EventData> Events => events;
        public TaskCompletionSource<AppendResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public async Task<IPendingAppend> BeginAppendAsync(string stream, ExpectedRevision expected, IReadOnlyList<EventData> events,
        CancellationToken cancellationToken = default)
    {
        AppendValidation.Validate(stream, events, options);
        var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlTransaction? tx = null;
        try
        {
            tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var result = await AppendAsync(connection, tx, stream, expected, events, cancellationToken).ConfigureAwait(false);
            return new PendingAppend(signal, connection, tx, result);
        }
        catch
        {
            if (tx is not null) await tx.DisposeAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<AppendResult> AppendAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string stream,
        ExpectedRevision expected, IReadOnlyList<EventData> events, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(AppendSql, connection, tx);
        AddAppendParameters(cmd.Parameters, stream, expected, events);

        var ids = events.Select(e => e.EventId).ToArray();
        int status;
        long current, txId, seq;
        try
        {
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            status = reader.GetInt32(0);
            current = reader.GetInt64(1);
            txId = reader.GetInt64(2);
            seq = reader.GetInt64(3);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == "events_event_id_key")
        {
            // A concurrent transaction committed one of these ids after our check (the unique index made us wait for
            // it). Our transaction is aborted, so look at what it committed from a fresh connection.
            await using var fresh = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var revision = await fresh.ExecuteScalarAsync<long?>(new CommandDefinition(
                "SELECT revision FROM event_store.streams WHERE stream_name = @stream", new { stream }, cancellationToken: cancellationToken))
                .ConfigureAwait(false) ?? StreamRevision.None;
            return IdempotenceRule.Evaluate(stream, expected, events, await StoredIdsAsync(fresh, null, ids, cancellationToken).ConfigureAwait(false), revision);
        }

        return status switch
        {
            0 => new AppendResult(current, new GlobalPosition(txId, seq)),
            2 => throw new WrongExpectedRevisionException(stream, expected, current),
            _ => IdempotenceRule.Evaluate(stream, expected, events, await StoredIdsAsync(connection, tx, ids, cancellationToken).ConfigureAwait(false), current),
        };
    }

    private const string AppendSql =
        "SELECT status, current_revision, last_tx_id, last_seq FROM event_store.append_events(" +
        "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

    private void AddAppendParameters(NpgsqlParameterCollection parameters, string stream, ExpectedRevision expected, IReadOnlyList<EventData> events)
    {
        var n = events.Count;
        var ids = new Guid[n];
        var types = new string[n];
        var versions = new int[n];
        var data = new string[n];
        var tenants = new string?[n];
        var environments = new string?[n];
        var actors = new string?[n];
        var correlations = new string?[n];
        var causations = new string?[n];
        var digests = new byte[n][];
        // The created time as PostgreSQL keeps it (microseconds), so the digest covers the stored value (docs/adr/0016).
        var createdAt = EventHash.Normalize(clock.GetUtcNow());
        for (var i = 0; i < n; i++)
        {
            var e = events[i];
            digests[i] = EventHash.Digest(e.EventId, stream, e.Type, e.SchemaVersion, e.Data, e.Metadata, createdAt);
            ids[i] = e.EventId;
            types[i] = e.Type;
            versions[i] = e.SchemaVersion;
            data[i] = e.Data;
            tenants[i] = e.Metadata.TenantId;
            environments[i] = e.Metadata.Environment;
            actors[i] = e.Metadata.Actor;
            correlations[i] = e.Metadata.CorrelationId;
            causations[i] = e.Metadata.CausationId;
        }

        parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = StreamName.CategoryOf(stream) });
        parameters.Add(new NpgsqlParameter<long> { TypedValue = expected.Value });
        parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids });
        parameters.Add(new NpgsqlParameter<string[]> { TypedValue = types });
        parameters.Add(new NpgsqlParameter<int[]> { TypedValue = versions });
        parameters.Add(new NpgsqlParameter<string[]> { TypedValue = data });
        foreach (var column in new[] { tenants, environments, actors, correlations, causations })
            parameters.Add(new NpgsqlParameter { Value = column, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = createdAt.UtcDateTime });
        parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = digests, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });

    }

    private static async Task<List<IdempotenceRule.StoredId>> StoredIdsAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, Guid[] ids,
        CancellationToken cancellationToken) =>
        (await connection.QueryAsync<StoredIdRow>(new CommandDefinition(
            "SELECT event_id AS EventId, stream_name AS StreamName, revision AS Revision, tx_id AS TxId, seq AS Seq " +
            "FROM event_store.events WHERE event_id = ANY(@ids)", new { ids }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false))
        .Select(r => new IdempotenceRule.StoredId(r.EventId, r.StreamName, r.Revision, new GlobalPosition(r.TxId, r.Seq)))
        .ToList();

    public async Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string stream, ReadDirection direction, long fromRevision,
        int maxCount, CancellationToken cancellationToken = default)
    {
        StreamName.Validate(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        var sql = direction == ReadDirection.Forward
            ? $"SELECT {Columns} FROM event_store.events e WHERE e.stream_name = @stream AND e.revision >= @from ORDER BY e.revision LIMIT @max"
            : $"SELECT {Columns} FROM event_store.events e WHERE e.stream_name = @stream AND e.revision <= @from ORDER BY e.revision DESC LIMIT @max";
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<EventRow>(new CommandDefinition(sql,
            new { stream, from = fromRevision, max = maxCount }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => r.ToRecorded()).ToList();
    }

    public async Task<AllSlice> ReadAllForwardAsync(GlobalPosition after, int maxCount, AllFilter? filter = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        var parameters = new DynamicParameters(new { c = after.Commit, p = after.Prepare, max = maxCount });
        var where = FilterSql(filter, parameters);
        // One statement, so the page, the head and the held-back flag all come from one snapshot.
        var sql =
            "WITH x AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin), " +
            // MATERIALIZED: evaluated once, not once per page row. Held back ⇔ the newest row (committed, as we see it)
            // belongs to a transaction at or above xmin: an index probe, where EXISTS(tx_id >= xmin) could scan the table.
            "h AS MATERIALIZED (SELECT hd.tx_id AS head_tx, hd.seq AS head_seq, " +
            "COALESCE((SELECT n.tx_id FROM event_store.events n ORDER BY n.tx_id DESC, n.seq DESC LIMIT 1) >= x.xmin, false) AS held_back " +
            "FROM x LEFT JOIN LATERAL " +
            "(SELECT e.tx_id, e.seq FROM event_store.events e WHERE e.tx_id < x.xmin ORDER BY e.tx_id DESC, e.seq DESC LIMIT 1) hd ON true), " +
            $"page AS (SELECT {Columns} FROM event_store.events e, x WHERE (e.tx_id, e.seq) > (@c, @p) AND e.tx_id < x.xmin{where} " +
            "ORDER BY e.tx_id, e.seq LIMIT @max) " +
            "SELECT h.head_tx, h.head_seq, h.held_back, page.* FROM h LEFT JOIN page ON true ORDER BY page.tx_id, page.seq";
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = (await connection.QueryAsync<EventRow>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken))
            .ConfigureAwait(false)).AsList();

        var first = rows[0];
        var head = first.Head_Tx is null ? GlobalPosition.Start : new GlobalPosition(first.Head_Tx.Value, first.Head_Seq!.Value);
        var events = rows.Where(r => r.Event_Id is not null).Select(r => r.ToRecorded()).ToList();
        var full = events.Count == maxCount;
        var scanned = full ? events[^1].Position : (head > after ? head : after);
        return new AllSlice(events, scanned, IsEnd: !full || scanned >= head, HeldBack: first.Held_Back);
    }

    public async Task<GlobalPosition> ReadHeadPositionAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QueryFirstOrDefaultAsync<(long, long)?>(new CommandDefinition(
            $"SELECT e.tx_id, e.seq FROM event_store.events e WHERE {Visible} ORDER BY e.tx_id DESC, e.seq DESC LIMIT 1",
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row is { } r ? new GlobalPosition(r.Item1, r.Item2) : GlobalPosition.Start;
    }

    public async Task<long> CountAllAfterAsync(GlobalPosition after, AllFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var parameters = new DynamicParameters(new { c = after.Commit, p = after.Prepare });
        var where = FilterSql(filter, parameters);
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT COUNT(*) FROM event_store.events e WHERE (e.tx_id, e.seq) > (@c, @p) AND {Visible}{where}",
            parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<RecordedEvent>> ReadAsync(HistoryQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        var backward = query.Direction == ReadDirection.Backward;
        var order = backward ? " ORDER BY e.tx_id DESC, e.seq DESC" : " ORDER BY e.tx_id, e.seq";
        var parameters = new DynamicParameters(new { tenant = query.TenantId, environment = query.Environment, max = query.Limit });
        var where = new StringBuilder($" WHERE e.tenant_id = @tenant AND e.environment = @environment AND {Visible}");
        if (query.After is { } after)
        {
            where.Append(backward ? " AND (e.tx_id, e.seq) < (@c, @p)" : " AND (e.tx_id, e.seq) > (@c, @p)");
            parameters.Add("c", after.Commit);
            parameters.Add("p", after.Prepare);
        }

        var scopeWalk = where.ToString();
        SqlClauses.AndIf(where, parameters, " AND e.stream_name = @stream", "stream", query.Stream);
        SqlClauses.AndIf(where, parameters, " AND e.category = @category", "category", query.Category);
        SqlClauses.AndIf(where, parameters, " AND e.type = @type", "type", query.Type);
        SqlClauses.AndIf(where, parameters, " AND starts_with(e.type, @typePrefix)", "typePrefix", query.TypePrefix);
        SqlClauses.AndIf(where, parameters, " AND e.created_at >= @from", "from", query.From?.UtcDateTime);
        SqlClauses.AndIf(where, parameters, " AND e.created_at < @to", "to", query.To?.UtcDateTime);
        SqlClauses.AndIf(where, parameters, " AND e.correlation_id = @correlation", "correlation", query.CorrelationId);
        SqlClauses.AndIf(where, parameters, " AND e.actor = @actor", "actor", query.Actor);

        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        string sql;
        // A stream or a correlation id has its own index, which the planner picks: no range-first for them.
        if ((query.From is not null || query.To is not null) && query.Stream is null && query.CorrelationId is null
            && await RangeFirstAsync(connection, query, backward, scopeWalk, parameters, cancellationToken).ConfigureAwait(false))
        {
            // Range first (HistoryRangePlan): the events created in the range through the BRIN index — the OFFSET 0 keeps the
            // scope index out of that scan (a BitmapAnd with it reads the whole scope) and the created-time filter in it —,
            // checked against every filter, the page's positions by a top-N sort, then those rows read in full.
            var type = query.Type is null ? "" : " AND c.type = @type";
            var range = string.Join(" AND ", new[] { query.From is null ? null : "c.created_at >= @from", query.To is null ? null : "c.created_at < @to" }
                .Where(c => c is not null));
            sql = $"SELECT {Columns} FROM event_store.events e JOIN (" +
                  "SELECT e.tx_id, e.seq FROM (SELECT c.tx_id, c.seq, c.tenant_id, c.environment, c.stream_name, c.category, c.type, c.created_at, " +
                  $"c.correlation_id, c.actor FROM event_store.events c WHERE {range}{type} OFFSET 0) e{where}{order} LIMIT @max) p " +
                  $"ON e.tx_id = p.tx_id AND e.seq = p.seq{order}";
        }
        else
        {
            sql = $"SELECT {Columns} FROM event_store.events e{where}{order} LIMIT @max";
        }

        var rows = await connection.QueryAsync<EventRow>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken))
            .ConfigureAwait(false);
        return [.. rows.Select(r => r.ToRecorded())];
    }

    /// <summary>Probes the start of the scope walk a history query would take and decides, by <see cref="HistoryRangePlan"/>,
    /// whether its created-time range is cheaper to read first.</summary>
    private static async Task<bool> RangeFirstAsync(NpgsqlConnection connection, HistoryQuery query, bool backward, string scopeWalk,
        DynamicParameters parameters, CancellationToken cancellationToken)
    {
        var (walk, back) = backward ? ("e.tx_id DESC, e.seq DESC", "e.tx_id, e.seq") : ("e.tx_id, e.seq", "e.tx_id DESC, e.seq DESC");
        var scope = $" WHERE e.tenant_id = @tenant AND e.environment = @environment AND {Visible}";
        var probe = await connection.QuerySingleAsync<RangeProbe>(new CommandDefinition(
            $"SELECT s.created_at AS Start_At, s.seq AS Start_Seq, k.created_at AS Probe_At, k.seq AS Probe_Seq, " +
            $"(SELECT e.created_at FROM event_store.events e{scope} ORDER BY {back} LIMIT 1) AS Far_At " +
            $"FROM (SELECT 1) one " +
            $"LEFT JOIN (SELECT e.created_at, e.seq FROM event_store.events e{scopeWalk} ORDER BY {walk} LIMIT 1) s ON true " +
            $"LEFT JOIN (SELECT e.created_at, e.seq FROM event_store.events e{scopeWalk} ORDER BY {walk} OFFSET {HistoryRangePlan.ProbeRows - 1} LIMIT 1) k ON true",
            parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
        static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));
        return HistoryRangePlan.RangeFirst(backward, query.From, query.To,
            probe.Start_At is { } s ? (Utc(s), probe.Start_Seq!.Value) : null,
            probe.Probe_At is { } k ? (Utc(k), probe.Probe_Seq!.Value) : null,
            probe.Far_At is { } f ? Utc(f) : null);
    }

    private sealed class RangeProbe
    {
        public DateTime? Start_At { get; init; }
        public long? Start_Seq { get; init; }
        public DateTime? Probe_At { get; init; }
        public long? Probe_Seq { get; init; }
        public DateTime? Far_At { get; init; }
    }

    public async Task<IReadOnlyList<ChainRow>> ReadAsync(GlobalPosition after, int maxCount, string? tenantId, string? environment,
        CancellationToken cancellationToken = default)
    {
        var scope = tenantId is null ? "" : " AND e.tenant_id = @tenantId AND e.environment = @environment";
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<EventRow>(new CommandDefinition(
            $"SELECT {Columns}, e.hash, e.category FROM event_store.events e WHERE (e.tx_id, e.seq) > (@c, @p) AND {Visible}{scope} ORDER BY e.tx_id, e.seq LIMIT @max",
            new { c = after.Commit, p = after.Prepare, max = maxCount, tenantId, environment }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. rows.Select(r => new ChainRow(r.ToRecorded(), r.Hash, r.Category ?? ""))];
    }

    public async Task<ChainRow?> ReadAtAsync(string stream, long revision, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<EventRow>(new CommandDefinition(
            $"SELECT {Columns}, e.hash, e.category FROM event_store.events e WHERE e.stream_name = @stream AND e.revision = @revision", new { stream, revision },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row is null ? null : new ChainRow(row.ToRecorded(), row.Hash, row.Category ?? "");
    }

    public async Task<IReadOnlyDictionary<string, StreamHead>> ReadHeadsAsync(IReadOnlyList<string> streams, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var heads = await connection.QueryAsync<(string Name, long Revision, byte[]? LastHash)>(new CommandDefinition(
            "SELECT stream_name, revision, last_hash FROM event_store.streams WHERE stream_name = ANY(@streams)", new { streams = streams.ToArray() },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return heads.ToDictionary(h => h.Name, h => new StreamHead(h.Revision, h.LastHash), StringComparer.Ordinal);
    }

    public async Task<GlobalPosition> ReadChainStartAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var start = await connection.QuerySingleOrDefaultAsync<(long TxId, long Seq)?>(new CommandDefinition(
            "SELECT tx_id, seq FROM event_store.chain_start", cancellationToken: cancellationToken)).ConfigureAwait(false);
        return start is { } s ? new GlobalPosition(s.TxId, s.Seq) : GlobalPosition.Start;
    }

    private static string FilterSql(AllFilter? filter, DynamicParameters parameters)
    {
        if (filter is null) return string.Empty;
        var sql = new StringBuilder();
        if (filter.Categories is { Count: > 0 })
        {
            sql.Append(" AND e.category = ANY(@categories)");
            parameters.Add("categories", filter.Categories.ToArray());
        }

        if (filter.EventTypePrefixes is { Count: > 0 })
        {
            // starts_with, not LIKE: event types contain '_', a LIKE wildcard.
            sql.Append(" AND EXISTS (SELECT 1 FROM unnest(@prefixes) AS p(prefix) WHERE starts_with(e.type, p.prefix))");
            parameters.Add("prefixes", filter.EventTypePrefixes.ToArray());
        }

        if (filter.TenantId is not null)
        {
            sql.Append(" AND e.tenant_id = @tenant");
            parameters.Add("tenant", filter.TenantId);
        }

        if (filter.Environment is not null)
        {
            sql.Append(" AND e.environment = @environment");
            parameters.Add("environment", filter.Environment);
        }

        return sql.ToString();
    }

    private sealed class PendingAppend(PostgresAppendSignal signal, NpgsqlConnection connection, NpgsqlTransaction tx, AppendResult result)
        : IPendingAppend
    {
        public AppendResult Result => result;

        public async Task<AppendResult> CommitAsync(CancellationToken cancellationToken = default)
        {
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            if (!result.WasIdempotentReplay) signal.Appended();
            return result;
        }

        public async ValueTask DisposeAsync()
        {
            await tx.DisposeAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed record StoredIdRow(Guid EventId, string StreamName, long Revision, long TxId, long Seq);

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
        public byte[]? Hash { get; init; }
        public string? Category { get; init; }

        public RecordedEvent ToRecorded() => new(
            Event_Id!.Value, Stream_Name, Revision, new GlobalPosition(Tx_Id, Seq), Type, Schema_Version, Data,
            new EventMetadata(Tenant_Id, Environment, Actor, Correlation_Id, Causation_Id),
            new DateTimeOffset(DateTime.SpecifyKind(Created_At, DateTimeKind.Utc)));
    }
}
