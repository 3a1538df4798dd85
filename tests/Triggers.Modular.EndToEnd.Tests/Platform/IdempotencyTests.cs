using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Platform;

/// <summary>An <c>Idempotency-Key</c> on a POST: the first response comes back, the command runs once.</summary>
public abstract class IdempotencyTests : IAsyncLifetime
{
    private ApiHost _host = null!;

    protected abstract StoreKind Kind { get; }

    public async Task InitializeAsync() => _host = await ApiHost.StartAsync(Kind);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<int> EnvironmentCreatedEventsAsync(string tenant, string environment)
    {
        var store = _host.Services.GetRequiredService<IEventStore>();
        var events = await store.ReadStreamAsync($"tenant-{tenant}", ReadDirection.Forward, 0, 1000);
        return events.Count(e => e.Type.Contains("environment_created", StringComparison.Ordinal) && e.Data.Contains($"\"{environment}\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Given_a_post_with_an_idempotency_key_When_retried_Then_the_identical_response_comes_back_and_one_result_is_stored()
    {
        var admin = await _host.ClientAsync("acme", "dev", Permissions.Admin);

        var first = await admin.PostJsonAsync("/api/v1/environments", new { name = "staging" }, "create-staging-1");
        var second = await admin.PostJsonAsync("/api/v1/environments", new { name = "staging" }, "create-staging-1");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(first.StatusCode, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(1, await EnvironmentCreatedEventsAsync("acme", "staging"));
        Assert.Equal(1, await _host.Services.GetRequiredService<IdempotencyStore>().CountAsync(new TenantScope("acme", "dev"), "create-staging-1"));
    }

    [Fact]
    public async Task Given_a_used_key_When_sent_with_a_different_body_Then_422_and_nothing_new_is_stored()
    {
        var admin = await _host.ClientAsync("acme", "dev", Permissions.Admin);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostJsonAsync("/api/v1/environments", new { name = "staging" }, "k-422")).StatusCode);

        var problem = await (await admin.PostJsonAsync("/api/v1/environments", new { name = "qa" }, "k-422")).ProblemAsync(422, "idempotency-key-reused");

        Assert.Contains("k-422", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, await EnvironmentCreatedEventsAsync("acme", "qa"));
    }

    [Fact]
    public async Task Given_the_same_key_in_another_environment_When_used_Then_it_is_a_different_key()
    {
        var dev = await _host.ClientAsync("acme", "dev", Permissions.Admin);
        var prod = await _host.ClientAsync("acme", "prod", Permissions.Admin);

        Assert.Equal(HttpStatusCode.Created, (await dev.PostJsonAsync("/api/v1/environments", new { name = "qa" }, "shared")).StatusCode);
        var second = await prod.PostJsonAsync("/api/v1/environments", new { name = "uat" }, "shared");

        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(1, await EnvironmentCreatedEventsAsync("acme", "uat"));
    }

    [Fact]
    public async Task Given_concurrent_retries_of_one_key_When_they_race_Then_the_command_runs_once_and_no_caller_gets_a_different_answer()
    {
        var admin = await _host.ClientAsync("acme", "dev", Permissions.Admin);

        var responses = await Task.WhenAll(Enumerable.Range(0, 8)
            .Select(_ => admin.PostJsonAsync("/api/v1/environments", new { name = "race" }, "race-key")));

        var created = responses.Where(r => r.StatusCode == HttpStatusCode.Created).ToList();
        Assert.NotEmpty(created);
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        foreach (var conflict in responses.Where(r => r.StatusCode == HttpStatusCode.Conflict))
            await conflict.ProblemAsync(409, "idempotency-key-in-progress"); // never "already exists": that would mean it ran twice
        var bodies = await Task.WhenAll(created.Select(r => r.Content.ReadAsStringAsync()));
        Assert.Single(bodies.Distinct());
        Assert.Equal(1, await EnvironmentCreatedEventsAsync("acme", "race"));
    }

    [Fact]
    public async Task Given_an_invalid_request_with_a_key_When_corrected_and_retried_with_the_same_key_Then_it_runs()
    {
        var admin = await _host.ClientAsync("acme", "dev", Permissions.Admin);

        await (await admin.PostJsonAsync("/api/v1/environments", new { name = "Not A Slug!" }, "fix-me")).ProblemAsync(400);
        var fixedResponse = await admin.PostJsonAsync("/api/v1/environments", new { name = "fixed" }, "fix-me");

        Assert.Equal(HttpStatusCode.Created, fixedResponse.StatusCode);
    }

    [Fact]
    public async Task Given_an_idempotency_key_When_issuing_an_api_key_Then_400_and_no_key_is_minted()
    {
        var admin = await _host.ClientAsync("acme", "dev", Permissions.Admin);
        var before = (await _host.Tenancy.ListApiKeysAsync("acme", "dev")).Count;

        await (await admin.PostJsonAsync("/api/v1/keys", new { name = "ci", permissions = new[] { "events:write" } }, "issue-1"))
            .ProblemAsync(400, "idempotency-key-not-supported");

        Assert.Equal(before, (await _host.Tenancy.ListApiKeysAsync("acme", "dev")).Count);
    }

    [Fact]
    public async Task Given_an_idempotency_key_of_301_characters_When_posting_Then_400_naming_the_header()
    {
        var admin = await _host.ClientAsync("acme", "dev", Permissions.Admin);
        var problem = await (await admin.PostJsonAsync("/api/v1/environments", new { name = "x1" }, new string('k', 301))).ProblemAsync(400);
        Assert.NotNull(problem["errors"]!["Idempotency-Key"]);
        Assert.Equal(0, await EnvironmentCreatedEventsAsync("acme", "x1"));
    }
}

public sealed class SqliteIdempotencyTests : IdempotencyTests
{
    protected override StoreKind Kind => StoreKind.Sqlite;
}

public sealed class PostgresIdempotencyTests : IdempotencyTests
{
    protected override StoreKind Kind => StoreKind.Postgres;
}
