using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.Executions.Contracts;
using Triggers.Modular.Executions.ReadModel;
using Triggers.Modular.Executions.Runtime;

namespace Triggers.Modular.Executions.Tests.ReadModel;

/// <summary>
/// The executions and work-queue projections fold a page of events in memory and write only the net change. Whatever
/// the page boundaries, the read model must end up exactly as if every event had been applied on its own: after every
/// page, every column of every row equals what event-by-event application (one transaction per event) leaves after the
/// same events. The events are real: appended to a real store through the module's serializer and read back from <c>$all</c>.
/// </summary>
public sealed class ProjectionFoldingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    public static TheoryData<StoreKind> Kinds => new(StoreKind.Sqlite, StoreKind.Postgres);

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Given_interleaved_histories_When_applied_in_their_natural_pages_Then_both_read_models_match_event_by_event_after_every_page(StoreKind kind)
    {
        await using var f = await Fixture.CreateAsync(kind);
        var (executions, work) = (f.Subjects[0], f.Subjects[1]);

        // Besides matching the event-by-event table, each page leaves what the histories mean: work queue rows as
        // execution|item|kind|step|attempt|lease owner, executions as execution|status|error code|finished. (Event by
        // event is itself a page of one for the work queue, so this pins both paths independently of each other.)
        string[][] workAfter =
        [
            ["exec_2|step:a|step|a|1|", "exec_2|timeout|timeout||0|", "exec_3|step:a|step|a|1|"], // exec_1 came and went
            ["exec_2|step:a|step|a|1|w1", "exec_2|timeout|timeout||0|", "exec_3|step:a|step|a|1|w1", "exec_4|step:a|step|a|2|"],
            ["exec_3|step:b|step|b|1|w2", "exec_4|step:d|timer|d|1|", "exec_5|step:a|step|a|1|", "exec_5|timeout|timeout||0|"],
            [
                "exec_3|step:b|step|b|1|w2", "exec_5|step:a|step|a|2|", "exec_5|timeout|timeout||0|", "exec_6|step:a|step|a|1|w1",
                "exec_6|step:b|step|b|1|", "exec_6|timeout|timeout||0|",
            ],
            ["exec_3|step:b|step|b|1|w2", "exec_5|step:b|step|b|1|", "exec_5|timeout|timeout||0|", "exec_7|step:a|step|a|1|w1", "exec_7|timeout|timeout||0|"],
            // The stale lease for exec_8's attempt 1 matched nothing: attempt 2's row stays unleased.
            ["exec_3|step:b|step|b|1|w2", "exec_5|step:b|step|b|1|", "exec_5|timeout|timeout||0|", "exec_8|step:a|step|a|2|"],
        ];
        string[] finished = ["exec_1|completed||finished", "exec_2|completed||finished", "exec_4|completed||finished", "exec_6|cancelled||finished"];
        string[][] executionsAfter =
        [
            [finished[0], "exec_2|pending||", "exec_3|pending||"],
            [finished[0], "exec_2|running||", "exec_3|running||", "exec_4|running||"],
            [finished[0], finished[1], "exec_3|running||", "exec_4|running||", "exec_5|pending||"],
            [finished[0], finished[1], "exec_3|running||", finished[2], "exec_5|running||", "exec_6|running||"], // failed, retried: error cleared
            [finished[0], finished[1], "exec_3|running||", finished[2], "exec_5|running||", finished[3], "exec_7|running||"],
            [finished[0], finished[1], "exec_3|running||", finished[2], "exec_5|running||", finished[3], "exec_7|failed|timeout|finished", "exec_8|running||"],
        ];
        Assert.Equal(6, f.History.PageStarts.Count);

        await f.AssertPagesMatchAsync(executions, await f.ApplyOneByOneAsync(executions), f.NaturalPages(executions), "natural pages",
            async page => Assert.Equal(executionsAfter[page], await f.ExecutionsSummaryAsync()));
        await f.AssertPagesMatchAsync(work, await f.ApplyOneByOneAsync(work), f.NaturalPages(work), "natural pages",
            async page => Assert.Equal(workAfter[page], await f.WorkSummaryAsync()));
        Assert.Equal(f.History.Deadline(5).ToUnixTimeMilliseconds(), await f.TimeoutDueMsAsync("exec_5")); // the retry's deadline
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Given_interleaved_histories_When_paged_at_every_size_and_cut_at_every_single_point_Then_both_read_models_match_event_by_event_after_every_page(StoreKind kind)
    {
        await using var f = await Fixture.CreateAsync(kind);

        foreach (var subject in f.Subjects)
        {
            var reference = await f.ApplyOneByOneAsync(subject);
            var n = subject.Events.Count;
            for (var size = 1; size <= n; size++)
            {
                var sizes = Enumerable.Repeat(size, n / size).ToList();
                if (n % size > 0) sizes.Add(n % size);
                await f.AssertPagesMatchAsync(subject, reference, sizes, $"pages of {size}");
            }

            for (var cut = 1; cut < n; cut++)
                await f.AssertPagesMatchAsync(subject, reference, [cut, n - cut], $"two pages cut after event {cut}");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Given_interleaved_histories_When_paged_at_random_boundaries_Then_both_read_models_match_event_by_event_after_every_page(StoreKind kind)
    {
        await using var f = await Fixture.CreateAsync(kind);
        var random = new Random(20_261_123);

        foreach (var subject in f.Subjects)
        {
            var reference = await f.ApplyOneByOneAsync(subject);
            for (var split = 0; split < 40; split++)
            {
                var longest = random.Next(2, 25);
                var sizes = new List<int>();
                for (var left = subject.Events.Count; left > 0; left -= sizes[^1])
                    sizes.Add(Math.Min(left, random.Next(1, longest + 1)));
                await f.AssertPagesMatchAsync(subject, reference, sizes, $"random split #{split} ({string.Join(", ", sizes)})");
            }
        }
    }

    /// <summary>One projection under test: its table and the events its filter lets through (as the runner reads them).</summary>
    private sealed record Subject(string Name, IProjection Projection, string Table, IReadOnlyList<RecordedEvent> Events);

    private sealed class Fixture : IAsyncDisposable
    {
        private readonly StoreHarness _store;
        private readonly IReadOnlyList<RecordedEvent> _all;

        private Fixture(StoreHarness store, EventSerializer serializer, History history, IReadOnlyList<RecordedEvent> all)
        {
            _store = store;
            History = history;
            _all = all;
            var dialect = store.Database.Dialect;
            Subjects =
            [
                Of("executions", new ExecutionsProjection(serializer), ExecutionsProjection.Table(dialect)),
                Of("executions-work", new WorkQueueProjection(serializer), WorkQueueProjection.Table(dialect)),
            ];
        }

        public History History { get; }

        public IReadOnlyList<Subject> Subjects { get; }

        private StoreDialect Dialect => _store.Database.Dialect;

        public static async Task<Fixture> CreateAsync(StoreKind kind)
        {
            var store = await StoreHarness.CreateAsync(kind);
            try
            {
                await new MigrationRunner(store.Database, [ExecutionsProjection.Migrations], NullLogger<MigrationRunner>.Instance).MigrateAsync();
                var serializer = new EventSerializer(ExecutionEventTypes.Register(new EventTypeRegistry()));
                var history = History.Build();
                var metadata = new EventMetadata("t1", "dev", "test");
                foreach (var (stream, e) in history.Events)
                    await store.Store.AppendToStreamAsync(stream, ExpectedRevision.Any, [serializer.Serialize(e, Guid.CreateVersion7(), metadata)]);

                var all = await ReadAllAsync(store.Store);
                Assert.Equal(history.Events.Select(e => (e.Stream, serializer.Registry.ForType(e.Event.GetType()).Name)),
                    all.Select(e => (e.StreamName, e.Type)));
                Assert.Equal(history.Events.Select(e => e.Event), all.Select(e => (IEvent)serializer.Deserialize(e)), EventComparer.Instance);
                return new Fixture(store, serializer, history, all);
            }
            catch
            {
                await store.DisposeAsync();
                throw;
            }
        }

        private Subject Of(string name, IProjection projection, string table)
        {
            Assert.Equal(name, projection.Name);
            var filter = projection.Filter;
            return new Subject(name, projection, table, _all.Where(e => filter is null || filter.Matches(e)).ToList());
        }

        /// <summary>The history's own page breaks, restricted to the events the projection receives (a page may be empty).</summary>
        public IReadOnlyList<int> NaturalPages(Subject subject)
        {
            var starts = History.PageStarts.Append(_all.Count).ToList();
            return
            [
                .. starts.Zip(starts.Skip(1)).Select(p => _all.Skip(p.First).Take(p.Second - p.First).Count(e => subject.Events.Contains(e))),
            ];
        }

        /// <summary>Applies the events one at a time, one transaction each (<see cref="IProjection.ApplyAsync"/>), and returns
        /// the table after each prefix: element k is the table after the first k events.</summary>
        public async Task<IReadOnlyList<IReadOnlyList<string>>> ApplyOneByOneAsync(Subject subject)
        {
            await ResetAsync(subject);
            var snapshots = new List<IReadOnlyList<string>> { await RowsAsync(subject.Table) };
            Assert.Empty(snapshots[0]);
            foreach (var e in subject.Events)
            {
                await InTransactionAsync(context => subject.Projection.ApplyAsync(e, context, default));
                snapshots.Add(await RowsAsync(subject.Table));
            }

            Assert.Contains(snapshots, s => s.Count > 0);
            return snapshots;
        }

        /// <summary>Rebuilds the read model page by page (<see cref="IProjection.ApplyBatchAsync"/>, one transaction per page)
        /// and compares it with the event-by-event reference after every page.</summary>
        public async Task AssertPagesMatchAsync(Subject subject, IReadOnlyList<IReadOnlyList<string>> reference, IReadOnlyList<int> pageSizes, string split,
            Func<int, Task>? afterPage = null)
        {
            Assert.Equal(subject.Events.Count, pageSizes.Sum());
            await ResetAsync(subject);
            var applied = 0;
            for (var page = 0; page < pageSizes.Count; page++)
            {
                var events = subject.Events.Skip(applied).Take(pageSizes[page]).ToList();
                await InTransactionAsync(context => subject.Projection.ApplyBatchAsync(events, context, default));
                applied += events.Count;
                var actual = await RowsAsync(subject.Table);
                if (!actual.SequenceEqual(reference[applied], StringComparer.Ordinal))
                    Assert.Fail(Describe(subject, split, page, applied - events.Count, events, reference[applied], actual));
                if (afterPage is not null) await afterPage(page);
            }
        }

        private string Describe(Subject subject, string split, int page, int firstIndex, IReadOnlyList<RecordedEvent> events,
            IReadOnlyList<string> expected, IReadOnlyList<string> actual)
        {
            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"{subject.Name} ({Dialect}), {split}: after page {page + 1} ")
                .Append(CultureInfo.InvariantCulture, $"(events {firstIndex + 1}..{firstIndex + events.Count} of {subject.Events.Count}) ")
                .AppendLine("the table differs from event-by-event application.");
            text.AppendLine("Page events:");
            for (var i = 0; i < events.Count; i++)
                text.Append(CultureInfo.InvariantCulture, $"  #{firstIndex + i + 1} {events[i].StreamName} {events[i].Type} {events[i].Data}").AppendLine();
            text.AppendLine("Rows only in the event-by-event table (expected):");
            foreach (var row in expected.Except(actual, StringComparer.Ordinal)) text.Append("  ").AppendLine(row);
            text.AppendLine("Rows only in the paged table (actual):");
            foreach (var row in actual.Except(expected, StringComparer.Ordinal)) text.Append("  ").AppendLine(row);
            text.AppendLine("Expected (all rows):");
            foreach (var row in expected) text.Append("  ").AppendLine(row);
            text.AppendLine("Actual (all rows):");
            foreach (var row in actual) text.Append("  ").AppendLine(row);
            return text.ToString();
        }

        private Task ResetAsync(Subject subject) => InTransactionAsync(context => subject.Projection.ResetAsync(context, default));

        private async Task InTransactionAsync(Func<ProjectionContext, Task> apply)
        {
            await using var connection = await _store.Database.OpenConnectionAsync();
            await using var tx = await _store.Database.BeginWriteTransactionAsync(connection);
            await apply(new ProjectionContext(connection, tx, Dialect));
            await tx.CommitAsync();
        }

        /// <summary>Every column of every row, as <c>column=value</c> text, rows sorted.</summary>
        private async Task<IReadOnlyList<string>> RowsAsync(string table)
        {
            await using var connection = await _store.Database.OpenConnectionAsync();
            var rows = await connection.QueryAsync($"SELECT * FROM {table}");
            return
            [
                .. rows.Cast<IDictionary<string, object?>>()
                    .Select(r => string.Join(" | ", r.Select(c => $"{c.Key}={Text(c.Value)}")))
                    .Order(StringComparer.Ordinal),
            ];
        }

        private static string Text(object? value) => value switch
        {
            null or DBNull => "NULL",
            DateTime d => d.ToString("O", CultureInfo.InvariantCulture),
            DateTimeOffset d => d.ToString("O", CultureInfo.InvariantCulture),
            IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };

        public async Task<IReadOnlyList<string>> WorkSummaryAsync()
        {
            await using var connection = await _store.Database.OpenConnectionAsync();
            var rows = await connection.QueryAsync($"SELECT execution_id, item, kind, step_id, attempt, lease_owner FROM {WorkQueueProjection.Table(Dialect)}");
            return
            [
                .. rows.Cast<IDictionary<string, object?>>()
                    .Select(r => string.Join("|", r.Values.Select(v => v is null ? "" : Text(v))))
                    .Order(StringComparer.Ordinal),
            ];
        }

        public async Task<IReadOnlyList<string>> ExecutionsSummaryAsync()
        {
            await using var connection = await _store.Database.OpenConnectionAsync();
            var rows = await connection.QueryAsync(
                $"SELECT execution_id, status, error_code, CASE WHEN finished_at IS NULL THEN '' ELSE 'finished' END AS finished FROM {ExecutionsProjection.Table(Dialect)}");
            return
            [
                .. rows.Cast<IDictionary<string, object?>>()
                    .Select(r => string.Join("|", r.Values.Select(v => v is null ? "" : Text(v))))
                    .Order(StringComparer.Ordinal),
            ];
        }

        public async Task<long> TimeoutDueMsAsync(string executionId)
        {
            await using var connection = await _store.Database.OpenConnectionAsync();
            return await connection.ExecuteScalarAsync<long>(
                $"SELECT due_ms FROM {WorkQueueProjection.Table(Dialect)} WHERE execution_id = @executionId AND item = @item",
                new { executionId, item = WorkQueueProjection.TimeoutItem });
        }

        public ValueTask DisposeAsync() => _store.DisposeAsync();

        /// <summary>Every committed event of <c>$all</c>, in order. On PostgreSQL, polls until nothing is held back by another
        /// test's open transaction.</summary>
        private static async Task<IReadOnlyList<RecordedEvent>> ReadAllAsync(IEventStore store)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (true)
            {
                var events = new List<RecordedEvent>();
                var after = GlobalPosition.Start;
                AllSlice slice;
                do
                {
                    slice = await store.ReadAllForwardAsync(after, 1000);
                    events.AddRange(slice.Events);
                    after = slice.ScannedUpTo;
                }
                while (!slice.IsEnd);

                if (!slice.HeldBack) return events;
                if (DateTime.UtcNow > deadline) throw new TimeoutException("$all stayed held back.");
                await Task.Delay(20);
            }
        }
    }

    /// <summary>Events compared by their JSON (records holding <see cref="JsonElement"/> or lists do not compare by value).</summary>
    private sealed class EventComparer : IEqualityComparer<IEvent>
    {
        public static EventComparer Instance { get; } = new();

        public bool Equals(IEvent? x, IEvent? y) => x?.GetType() == y?.GetType() && Json(x) == Json(y);

        public int GetHashCode(IEvent obj) => StringComparer.Ordinal.GetHashCode(Json(obj));

        private static string Json(IEvent? e) => e is null ? "" : JsonSerializer.Serialize(e, e.GetType(), EventSerializer.Options);
    }

    /// <summary>Several executions' event histories, interleaved as the runtime appends them, with the page breaks a
    /// projection runner might have made.</summary>
    private sealed class History
    {
        private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();
        private readonly Dictionary<int, DateTimeOffset> _deadlines = [];
        private DateTimeOffset _now = T0;

        public List<(string Stream, IEvent Event)> Events { get; } = [];

        /// <summary>Index of each page's first event.</summary>
        public List<int> PageStarts { get; } = [0];

        /// <summary>The last whole-execution deadline set for execution <paramref name="n"/>.</summary>
        public DateTimeOffset Deadline(int n) => _deadlines[n];

        private static string Id(int n) => $"exec_{n}";

        private DateTimeOffset Tick() => _now = _now.AddMilliseconds(1_017.25);

        private void Add(int n, IEvent e) => Events.Add((ExecutionEventTypes.StreamFor(Id(n)), e));

        private void Page() => PageStarts.Add(Events.Count);

        private void Started(int n, TimeSpan? timeout, string triggerType = "manual")
        {
            var at = Tick();
            DateTimeOffset? timeoutAt = timeout is { } t ? at + t : null;
            if (timeoutAt is { } d) _deadlines[n] = d;
            Add(n, new ExecutionStarted(Id(n), n % 2 == 0 ? "t1" : "t2", n % 3 == 0 ? "prod" : "dev", $"wf_{n}", n, triggerType,
                triggerType == "event" ? $"evt_{n}" : null, JsonDocument.Parse($$"""{"n":{{n}}}""").RootElement.Clone(),
                triggerType == "event" ? JsonDocument.Parse($$"""{"name":"order.created","id":"evt_{{n}}"}""").RootElement.Clone() : null,
                timeoutAt, at));
        }

        private void Scheduled(int n, string step, int attempt) => Add(n, new StepScheduled(Id(n), step, attempt, Tick()));

        private void Leased(int n, string step, int attempt, string worker)
        {
            var at = Tick();
            Add(n, new StepStarted(Id(n), step, attempt, worker, at.AddMinutes(5), at));
        }

        private void StepDone(int n, string step, int attempt) => Add(n, new StepCompleted(Id(n), step, attempt, EmptyObject, Tick()));

        private void StepFailed(int n, string step, int attempt, bool retryable) =>
            Add(n, new StepFailed(Id(n), step, attempt, "http_status", "boom", retryable, Tick()));

        private void RetryScheduled(int n, string step, int nextAttempt)
        {
            var at = Tick();
            Add(n, new StepRetryScheduled(Id(n), step, nextAttempt, at.AddSeconds(30), at));
        }

        private void Sleeping(int n, string step, int attempt)
        {
            var at = Tick();
            Add(n, new StepSleeping(Id(n), step, attempt, at.AddMinutes(10), EmptyObject, at));
        }

        private void Skipped(int n, string step, string reasonCode) => Add(n, new StepSkipped(Id(n), step, reasonCode, "because", Tick()));

        private void StepCancelled(int n, string step, string reason) => Add(n, new StepCancelled(Id(n), step, reason, Tick()));

        private void Completed(int n) => Add(n, new ExecutionCompleted(Id(n), $"wf_{n}", Tick()));

        private void Failed(int n, string reason, string? step, string code) =>
            Add(n, new ExecutionFailed(Id(n), $"wf_{n}", reason, step, code, $"failed: {reason}", Tick()));

        private void Retried(int n, IReadOnlyList<string> steps, TimeSpan? timeout)
        {
            var at = Tick();
            DateTimeOffset? timeoutAt = timeout is { } t ? at + t : null;
            if (timeoutAt is { } d) _deadlines[n] = d;
            Add(n, new ExecutionRetried(Id(n), steps, timeoutAt, at));
        }

        private void CancelRequested(int n) => Add(n, new ExecutionCancelRequested(Id(n), "operator", Tick()));

        private void Cancelled(int n) => Add(n, new ExecutionCancelled(Id(n), $"wf_{n}", Tick()));

        public static History Build()
        {
            var h = new History();

            // Page 1. exec_1 runs start to finish (deadline, two steps) within the page; exec_2 and exec_3 start and stay.
            h.Started(2, TimeSpan.FromHours(1), "event");
            h.Scheduled(2, "a", 1);
            h.Started(1, TimeSpan.FromMinutes(30));
            h.Scheduled(1, "a", 1);
            h.Leased(1, "a", 1, "w1");
            h.StepDone(1, "a", 1);
            h.Scheduled(1, "b", 1);
            h.Leased(1, "b", 1, "w1");
            h.StepDone(1, "b", 1);
            h.Completed(1);
            h.Started(3, null);
            h.Scheduled(3, "a", 1);
            h.Page();

            // Page 2. exec_3's step is leased a page after it was scheduled; exec_4's first attempt fails and backs off.
            h.Leased(3, "a", 1, "w1");
            h.Started(4, null, "event");
            h.Scheduled(4, "a", 1);
            h.Leased(4, "a", 1, "w1");
            h.StepFailed(4, "a", 1, retryable: true);
            h.RetryScheduled(4, "a", 2);
            h.Leased(2, "a", 1, "w1");
            h.Page();

            // Page 3. exec_4's second attempt runs, then a delay step sleeps; exec_2 (started in page 1) finishes; exec_3's
            // lease is re-taken by a second worker for the same attempt, then its next step is leased and re-taken within
            // the page (and stays running to the end); exec_5 starts.
            h.Leased(4, "a", 2, "w2");
            h.StepDone(4, "a", 2);
            h.Scheduled(4, "d", 1);
            h.Leased(4, "d", 1, "w2");
            h.Sleeping(4, "d", 1);
            h.StepDone(2, "a", 1);
            h.Completed(2);
            h.Leased(3, "a", 1, "w2");
            h.StepDone(3, "a", 1);
            h.Scheduled(3, "b", 1);
            h.Leased(3, "b", 1, "w1");
            h.Leased(3, "b", 1, "w2");
            h.Started(5, TimeSpan.FromMinutes(20));
            h.Scheduled(5, "a", 1);
            h.Page();

            // Page 4. exec_5 fails and is retried (new deadline) in the same page, and its step is scheduled again;
            // exec_6 starts; exec_4's sleeping step wakes and the execution completes.
            h.Leased(5, "a", 1, "w1");
            h.StepFailed(5, "a", 1, retryable: false);
            h.Skipped(5, "b", "execution_failed");
            h.Failed(5, "step_failed", "a", "http_status");
            h.Retried(5, ["a", "b"], TimeSpan.FromMinutes(45));
            h.Scheduled(5, "a", 2);
            h.Started(6, TimeSpan.FromHours(2));
            h.Scheduled(6, "a", 1);
            h.Scheduled(6, "b", 1);
            h.Leased(6, "a", 1, "w1");
            h.StepDone(4, "d", 1);
            h.Completed(4);
            h.Page();

            // Page 5. exec_5's steps run after the retry (b stays scheduled); exec_6 is cancelled with a running and a
            // scheduled step; exec_7 starts with a skipped step and a running one.
            h.Leased(5, "a", 2, "w1");
            h.StepDone(5, "a", 2);
            h.Scheduled(5, "b", 1);
            h.CancelRequested(6);
            h.StepCancelled(6, "a", "execution cancelled: operator");
            h.StepCancelled(6, "b", "execution cancelled: operator");
            h.Cancelled(6);
            h.Started(7, TimeSpan.FromSeconds(5));
            h.Skipped(7, "c", "condition_false");
            h.Scheduled(7, "a", 1);
            h.Leased(7, "a", 1, "w1");
            h.Page();

            // Page 6. exec_7 times out. exec_8 retries a step, then a lease for the attempt before the retry arrives late
            // (today's decider does not record one, but the projection's contract covers any order): it matches no row.
            h.StepCancelled(7, "a", "execution timed out");
            h.Failed(7, "timed_out", null, "timeout");
            h.Started(8, null);
            h.Scheduled(8, "a", 1);
            h.Leased(8, "a", 1, "w1");
            h.StepFailed(8, "a", 1, retryable: true);
            h.RetryScheduled(8, "a", 2);
            h.Leased(8, "a", 1, "w9");
            return h;
        }
    }
}
