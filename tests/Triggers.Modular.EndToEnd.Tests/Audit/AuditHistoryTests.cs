using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Triggers;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Audit;

/// <summary>The history API (issue 9, SPEC §6): filters, paging by position in both orders while events are appended,
/// NDJSON export, isolation between tenants and environments, validation — on both stores.</summary>
public sealed class AuditHistoryTests(EventsHosts hosts) : IClassFixture<EventsHosts>
{
    private const string Events = "/api/v1/audit/events";

    /// <summary>Appends <paramref name="count"/> events to <paramref name="stream"/> of a scope, as a module would.</summary>
    private static async Task AppendAsync(ApiHost host, string stream, string tenant, string environment, int count, string type = "test.happened",
        string? actor = "user:alice", string? correlation = null)
    {
        var store = host.Services.GetRequiredService<IEventStore>();
        var events = Enumerable.Range(0, count).Select(i => new EventData(Guid.NewGuid(), type, $$"""{ "n": {{i}} }""",
            new EventMetadata(tenant, environment, actor, correlation ?? $"corr-{stream}", null))).ToList();
        var appended = await store.AppendToStreamAsync(stream, ExpectedRevision.Any, events);
        // History pages hold only events no later commit can precede: on a PostgreSQL cluster shared with other tests'
        // databases, another database's open transaction can hold them back for a moment.
        await EventuallyAsync(() => store.ReadHeadPositionAsync(), head => head >= appended.Position, "the appended events visible", seconds: 30);
    }

    private static async Task<JsonObject> PageAsync(HttpClient client, string query)
    {
        var response = await client.GetAsync(Url($"{Events}?{query}"));
        var body = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToJsonString());
        return body;
    }

    private static async Task<List<JsonNode>> AllPagesAsync(HttpClient client, string query, int limit)
    {
        var items = new List<JsonNode>();
        string? cursor = null;
        do
        {
            var page = await PageAsync(client, $"{query}&limit={limit}" + (cursor is null ? "" : $"&cursor={cursor}"));
            items.AddRange(page["items"]!.AsArray().Select(i => i!));
            cursor = StrOrNull(page["next_cursor"]);
        } while (cursor is not null);

        return items;
    }

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..24];

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_events_of_several_streams_When_filtered_Then_each_filter_selects_exactly_its_events_in_position_order(StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var tenant = Unique("aud");
        var auditor = await host.ClientAsync(tenant, "dev", Permissions.AuditRead);
        var (a, b) = ($"orders-{Guid.NewGuid():N}", $"invoices-{Guid.NewGuid():N}");
        var before = DateTimeOffset.UtcNow;
        await AppendAsync(host, a, tenant, "dev", 3, "test.order_placed", actor: "user:alice", correlation: "c-1");
        await Task.Delay(20);
        var middle = DateTimeOffset.UtcNow;
        await Task.Delay(20);
        await AppendAsync(host, b, tenant, "dev", 2, "test.invoice_sent", actor: "user:bob", correlation: "c-2");
        await AppendAsync(host, a, tenant, "dev", 1, "other.thing", actor: "system", correlation: "c-2");

        // The scope also holds what issuing the auditor's key recorded: the filters are checked against everything in it.
        var all = (await PageAsync(auditor, "order=oldest"))["items"]!.AsArray();
        var mine = all.Where(i => Str(i!["stream"]) == a || Str(i!["stream"]) == b).ToList();
        Assert.Equal(6, mine.Count);
        var newest = (await PageAsync(auditor, ""))["items"]!.AsArray();
        Assert.Equal(all.Select(i => Str(i!["event_id"])).Reverse(), newest.Select(i => Str(i!["event_id"]))); // newest first by default
        var first = mine[0]!;
        Assert.Equal((a, 0L, "test.order_placed", "user:alice", "c-1"), (Str(first["stream"]), first["revision"]!.GetValue<long>(), Str(first["type"]),
            Str(first["actor"]), Str(first["correlation_id"])));
        Assert.Equal(0, first["data"]!["n"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(Str(first["position"])));

        async Task<string[]> Ids(string q) => [.. (await PageAsync(auditor, "order=oldest&" + q))["items"]!.AsArray().Select(i => Str(i!["event_id"]))];
        string[] Expected(Func<JsonNode, bool> p) => [.. all.Where(i => p(i!)).Select(i => Str(i!["event_id"]))];

        Assert.Equal(Expected(i => Str(i["stream"]) == a), await Ids($"stream={a}"));
        Assert.Equal(Expected(i => Str(i["stream"]) == b), await Ids("category=invoices"));
        Assert.Equal(Expected(i => Str(i["type"]) == "test.invoice_sent"), await Ids("type=test.invoice_sent"));
        Assert.Equal(Expected(i => Str(i["type"]).StartsWith("test.", StringComparison.Ordinal)), await Ids("type=test.*"));
        Assert.Equal(Expected(i => Str(i["correlation_id"]) == "c-2"), await Ids("correlation_id=c-2"));
        Assert.Equal(Expected(i => Str(i["actor"]) == "user:bob"), await Ids("actor=user:bob"));
        Assert.Equal(Expected(i => Time(i["recorded_at"]) >= middle), await Ids($"from={Uri.EscapeDataString(middle.ToString("O"))}"));
        Assert.Equal(Expected(i => Time(i["recorded_at"]) < middle), await Ids($"from={Uri.EscapeDataString(before.AddMinutes(-1).ToString("O"))}" +
                                                                               $"&to={Uri.EscapeDataString(middle.ToString("O"))}"));
        Assert.Equal(3, mine.Count(i => Time(i!["recorded_at"]) < middle)); // the range splits this test's events where it should
        Assert.Equal(Expected(i => Str(i["stream"]) == a && Str(i["correlation_id"]) == "c-2"), await Ids($"stream={a}&correlation_id=c-2"));
        Assert.Empty(await Ids("type=nothing.*"));
    }

    [Theory]
    [InlineData(StoreKind.Sqlite, "oldest")]
    [InlineData(StoreKind.Sqlite, "newest")]
    [InlineData(StoreKind.Postgres, "oldest")]
    [InlineData(StoreKind.Postgres, "newest")]
    public async Task Given_events_being_appended_When_paged_Then_no_event_is_returned_twice_and_none_in_the_range_walked_is_missed(StoreKind kind, string order)
    {
        var host = await hosts.GetAsync(kind);
        var tenant = Unique("pg");
        var auditor = await host.ClientAsync(tenant, "dev", Permissions.AuditRead);
        for (var s = 0; s < 4; s++) await AppendAsync(host, $"seed-{Guid.NewGuid():N}", tenant, "dev", 50);

        // Four writers keep appending to their own streams while the auditor pages with small pages.
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var stream = $"live-{Guid.NewGuid():N}";
            while (!stop.IsCancellationRequested)
            {
                await AppendAsync(host, stream, tenant, "dev", 3);
                await Task.Delay(5);
            }
        })).ToList();
        List<JsonNode> walked;
        try
        {
            walked = await AllPagesAsync(auditor, $"order={order}", limit: 17);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }

        var ids = walked.Select(i => Str(i["event_id"])).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        // Everything now in the store within the walked range was returned: no gap.
        var everything = await AllPagesAsync(auditor, "order=oldest", limit: 1000);
        var positions = everything.Select(i => Str(i["event_id"])).ToList();
        var firstIndex = positions.IndexOf(order == "oldest" ? ids[0] : ids[^1]);
        var lastIndex = positions.IndexOf(order == "oldest" ? ids[^1] : ids[0]);
        Assert.True(firstIndex == 0, "the walk starts at the oldest event (oldest first) or ends there (newest first)");
        Assert.Equal(positions.GetRange(firstIndex, lastIndex - firstIndex + 1).Order(), ids.Order());
        Assert.True(ids.Count >= 200, $"{ids.Count} walked");
        if (order == "newest")
            Assert.Equal(ids, everything.Select(i => Str(i["event_id"])).Take(lastIndex + 1).Reverse()); // strictly newest to oldest
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_two_tenants_and_two_environments_When_each_auditor_reads_Then_each_sees_only_its_own(StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var (a, b) = (Unique("ta"), Unique("tb"));
        var auditorA = await host.ClientAsync(a, "dev", Permissions.AuditRead);
        var auditorB = await host.ClientAsync(b, "dev", Permissions.AuditRead);
        var auditorAProd = await host.ClientAsync(a, "prod", Permissions.AuditRead);
        var streamA = $"orders-{Guid.NewGuid():N}";
        await AppendAsync(host, streamA, a, "dev", 2, correlation: "shared");
        await AppendAsync(host, $"orders-{Guid.NewGuid():N}", b, "dev", 3, correlation: "shared");
        await AppendAsync(host, $"orders-{Guid.NewGuid():N}", a, "prod", 4, correlation: "shared");

        Assert.Equal(2, (await AllPagesAsync(auditorA, "order=oldest&correlation_id=shared", 100)).Count);
        Assert.Equal(3, (await AllPagesAsync(auditorB, "order=oldest&correlation_id=shared", 100)).Count);
        Assert.Equal(4, (await AllPagesAsync(auditorAProd, "order=oldest&correlation_id=shared", 100)).Count);
        Assert.Empty(await AllPagesAsync(auditorB, $"stream={streamA}", 100));
        Assert.Empty(await AllPagesAsync(auditorAProd, $"stream={streamA}", 100));

        var own = await (await auditorA.GetAsync(Url($"/api/v1/audit/streams/{streamA}"))).JsonAsync();
        Assert.Equal([0L, 1L], own["items"]!.AsArray().Select(i => i!["revision"]!.GetValue<long>()));
        await (await auditorB.GetAsync(Url($"/api/v1/audit/streams/{streamA}"))).ProblemAsync(404);
        await (await auditorAProd.GetAsync(Url($"/api/v1/audit/streams/{streamA}"))).ProblemAsync(404);
        await (await auditorA.GetAsync(Url($"/api/v1/audit/streams/nothing-{Guid.NewGuid():N}"))).ProblemAsync(404);

        // audit:read is needed; workflows:read is not enough.
        var reader = await host.ClientAsync(a, "dev", Permissions.WorkflowsRead);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.GetAsync(Url(Events))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Anonymous().GetAsync(Url(Events))).StatusCode);
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_events_When_exported_as_ndjson_Then_every_matching_event_is_one_line_equal_to_the_json_pages(StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        var tenant = Unique("nd");
        var auditor = await host.ClientAsync(tenant, "dev", Permissions.AuditRead);
        for (var s = 0; s < 3; s++) await AppendAsync(host, $"exp-{Guid.NewGuid():N}", tenant, "dev", 900); // 2,700: three export pages
        await AppendAsync(host, $"other-{Guid.NewGuid():N}", tenant, "dev", 5, type: "other.thing");

        using var request = new HttpRequestMessage(HttpMethod.Get, Url($"{Events}?order=oldest&type=test.*&limit=5"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
        using var response = await auditor.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType!.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        var pages = await AllPagesAsync(auditor, "order=oldest&type=test.*", 1000);
        Assert.Equal(2_700, lines.Length); // the limit does not apply to an export
        Assert.Equal(pages.Count, lines.Length);
        for (var i = 0; i < lines.Length; i++)
            Assert.Equal(pages[i].ToJsonString(), JsonNode.Parse(lines[i])!.ToJsonString());
    }

    [Theory]
    [InlineData("order=sideways", "order")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("cursor=abc", "cursor")]
    [InlineData("type=test.*.x", "type")]
    [InlineData("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to")]
    public async Task Given_a_bad_query_When_listed_Then_400_naming_the_field(string query, string field)
    {
        var host = await hosts.GetAsync(StoreKind.Sqlite);
        var auditor = await host.ClientAsync(Unique("val"), "dev", Permissions.AuditRead);
        var problem = await (await auditor.GetAsync(Url($"{Events}?{query}"))).ProblemAsync(400);
        Assert.True(problem["errors"]![field] is JsonArray { Count: > 0 }, problem.ToJsonString());
    }
}
