using System.Net;
using System.Text;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary>The receiver's cache of triggers and secrets (ADR 0014) with two host instances on one PostgreSQL: a secret
/// rotated through the other instance verifies at once on this one (a failed check is repeated against a fresh read), and
/// the cache then holds the fresh secrets, so the old one is refused once its overlap ended.</summary>
public sealed class WebhookTwoInstancesTests : IAsyncLifetime
{
    private ApiHost _a = null!;
    private ApiHost _b = null!;

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?> { ["Triggers:Webhooks:CacheSeconds"] = "600" };
        _a = await ApiHost.StartAsync(StoreKind.Postgres, settings);
        _b = await ApiHost.StartAsync(StoreKind.Sqlite, new Dictionary<string, string?>(settings)
        {
            ["EventStore:Provider"] = "postgres",
            ["EventStore:Postgres:ConnectionString"] = _a.PostgresConnectionString,
        });
    }

    public async Task DisposeAsync()
    {
        if (_b is not null) await _b.DisposeAsync();
        if (_a is not null) await _a.DisposeAsync(); // drops the database
    }

    [Fact]
    public async Task Given_a_secret_cached_on_one_instance_When_it_is_rotated_through_the_other_Then_the_new_one_verifies_at_once_and_the_old_one_no_longer()
    {
        var clientA = await _a.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);
        var clientB = await _b.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite);
        var workflow = await CreateDefinitionAsync(clientA, """[ { "id": "s", "type": "set", "config": { "values": { "v": 1 } } } ]""");
        var created = await (await clientA.PostJsonAsync("/api/v1/triggers",
            new { WorkflowId = workflow, Name = "hook", Type = "webhook", Config = new { AuthType = "bearer" } })).JsonAsync();
        var id = Str(created["id"]);
        var first = Str(created["webhook_secret"]);
        var anonymousA = _a.Anonymous();

        Assert.Equal(HttpStatusCode.Accepted, await SendAsync(anonymousA, id, first)); // cached on a now
        var cachedAt = System.Diagnostics.Stopwatch.StartNew();

        var rotated = await clientB.PostJsonAsync($"/api/v1/triggers/{id}/rotate-secret", new { OverlapSeconds = 0 });
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var second = Str((await rotated.JsonAsync())["webhook_secret"]);
        // A failed check re-reads a trigger's secrets at most every 100 ms (a flood of bad tokens must not flood the
        // database): a rotation done faster than that after the secrets were cached is seen once the interval is over.
        if (TimeSpan.FromMilliseconds(150) - cachedAt.Elapsed is { Ticks: > 0 } rest) await Task.Delay(rest);

        Assert.Equal(HttpStatusCode.Accepted, await SendAsync(anonymousA, id, second));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(anonymousA, id, first));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(_b.Anonymous(), id, first));
    }

    private static async Task<HttpStatusCode> SendAsync(HttpClient client, string triggerId, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url($"/api/webhooks/{triggerId}")) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Add("Authorization", "Bearer " + token);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}

/// <summary>With the shipped cache lifetime (1 s), a trigger disabled through another instance answers 409 here within it —
/// also while failing requests keep arriving (a failed check re-reads the secrets, never extending the entry's life).</summary>
public sealed class WebhookCacheExpiryTests : IAsyncLifetime
{
    private ApiHost _a = null!;
    private ApiHost _b = null!;

    public async Task InitializeAsync()
    {
        _a = await ApiHost.StartAsync(StoreKind.Postgres);
        _b = await ApiHost.StartAsync(StoreKind.Sqlite, new Dictionary<string, string?>
        {
            ["EventStore:Provider"] = "postgres",
            ["EventStore:Postgres:ConnectionString"] = _a.PostgresConnectionString,
        });
    }

    public async Task DisposeAsync()
    {
        if (_b is not null) await _b.DisposeAsync();
        if (_a is not null) await _a.DisposeAsync();
    }

    [Fact]
    public async Task Given_a_trigger_disabled_through_another_instance_When_bad_requests_keep_coming_Then_it_is_refused_here_within_the_cache_lifetime()
    {
        var clientA = await _a.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite);
        var clientB = await _b.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite);
        var workflow = await CreateDefinitionAsync(clientA, """[ { "id": "s", "type": "set", "config": { "values": { "v": 1 } } } ]""");
        var created = await (await clientA.PostJsonAsync("/api/v1/triggers",
            new { WorkflowId = workflow, Name = "hook", Type = "webhook", Config = new { AuthType = "bearer" } })).JsonAsync();
        var id = Str(created["id"]);
        var token = Str(created["webhook_secret"]);
        var anonymousA = _a.Anonymous();
        Assert.Equal(HttpStatusCode.Accepted, await SendAsync(anonymousA, id, token)); // cached on a

        Assert.Equal(HttpStatusCode.OK, (await clientB.PostAsync(Url($"/api/v1/triggers/{id}/disable"), null)).StatusCode);
        var until = DateTime.UtcNow.AddSeconds(2.5);
        while (DateTime.UtcNow < until)
        {
            var status = await SendAsync(anonymousA, id, "wrong-token");
            Assert.True(status is HttpStatusCode.Unauthorized or HttpStatusCode.Conflict, $"a bad token got {status}");
            await Task.Delay(200);
        }

        Assert.Equal(HttpStatusCode.Conflict, await SendAsync(anonymousA, id, token));
    }

    private static async Task<HttpStatusCode> SendAsync(HttpClient client, string triggerId, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url($"/api/webhooks/{triggerId}")) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Add("Authorization", "Bearer " + token);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
