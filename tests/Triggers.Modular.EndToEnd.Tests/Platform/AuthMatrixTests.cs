using System.Net;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Platform;

/// <summary>Who may call what, over real HTTP, on both stores.</summary>
public abstract class AuthMatrixTests : IAsyncLifetime
{
    private ApiHost _host = null!;

    protected abstract StoreKind Kind { get; }

    public async Task InitializeAsync() => _host = await ApiHost.StartAsync(Kind);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("/api/v1/me")]
    [InlineData("/api/v1/keys")]
    [InlineData("/api/v1/environments")]
    public async Task Given_no_token_When_calling_an_endpoint_Then_401_problem_with_a_bearer_challenge(string path)
    {
        var response = await _host.Anonymous().GetAsync(Url(path));
        await response.ProblemAsync(401);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Theory]
    [InlineData("well-formed-but-unknown")]
    [InlineData("tmk_")]
    [InlineData("tmk_garbage")]
    [InlineData("not-a-token")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.e30.x")]
    public async Task Given_an_unknown_or_malformed_token_When_calling_Then_401(string token)
    {
        if (token == "well-formed-but-unknown") token = "tmk_01JD" + new string('0', 22) + "_" + new string('a', 52);
        await _host.IssueKeyAsync("acme", "dev", Permissions.Admin);
        await (await _host.WithToken(token).GetAsync(Url("/api/v1/me"))).ProblemAsync(401);
    }

    [Fact]
    public async Task Given_a_key_with_its_secret_altered_When_calling_Then_401()
    {
        var key = await _host.IssueKeyAsync("acme", "dev", Permissions.Admin);
        var altered = key.Token[..^1] + (key.Token[^1] == 'a' ? 'b' : 'a');
        Assert.Equal(HttpStatusCode.OK, (await _host.WithToken(key.Token).GetAsync(Url("/api/v1/me"))).StatusCode);
        await (await _host.WithToken(altered).GetAsync(Url("/api/v1/me"))).ProblemAsync(401);
    }

    [Fact]
    public async Task Given_a_revoked_key_When_calling_Then_401_at_once()
    {
        var admin = await _host.ClientAsync("acme", "dev", Permissions.Admin);
        var victim = await _host.IssueKeyAsync("acme", "dev", Permissions.WorkflowsRead);
        var client = _host.WithToken(victim.Token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Url("/api/v1/me"))).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync(Url($"/api/v1/keys/{victim.Id}"))).StatusCode);

        await (await client.GetAsync(Url("/api/v1/me"))).ProblemAsync(401);
    }

    [Fact]
    public async Task Given_a_key_without_the_permission_When_calling_Then_403_naming_what_is_required()
    {
        var reader = await _host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.EventsWrite);
        var problem = await (await reader.GetAsync(Url("/api/v1/keys"))).ProblemAsync(403);
        Assert.Contains("admin", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(Url("/api/v1/me"))).StatusCode);
    }

    [Fact]
    public async Task Given_a_dev_key_When_reading_or_revoking_a_prod_resource_Then_404_exactly_like_a_missing_one()
    {
        var prodKey = await _host.IssueKeyAsync("acme", "prod", Permissions.EventsWrite);
        var dev = await _host.ClientAsync("acme", "dev", Permissions.Admin);

        var foreign = await (await dev.GetAsync(Url($"/api/v1/keys/{prodKey.Id}"))).ProblemAsync(404);
        var missing = await (await dev.GetAsync(Url("/api/v1/keys/key_01JD0000000000000000000000"))).ProblemAsync(404);
        Assert.Equal(missing["type"]!.GetValue<string>(), foreign["type"]!.GetValue<string>());
        Assert.Equal(missing["title"]!.GetValue<string>(), foreign["title"]!.GetValue<string>());
        await (await dev.DeleteAsync(Url($"/api/v1/keys/{prodKey.Id}"))).ProblemAsync(404);

        // Still valid: the failed revoke from dev changed nothing.
        Assert.Equal(HttpStatusCode.OK, (await _host.WithToken(prodKey.Token).GetAsync(Url("/api/v1/me"))).StatusCode);
        var listed = await (await dev.GetAsync(Url("/api/v1/keys"))).JsonAsync();
        Assert.DoesNotContain(listed["items"]!.AsArray(), k => k!["id"]!.GetValue<string>() == prodKey.Id);
    }

    [Fact]
    public async Task Given_another_tenants_key_id_When_read_or_revoked_Then_404_and_it_keeps_working()
    {
        var acmeKey = await _host.IssueKeyAsync("acme", "dev", Permissions.EventsWrite);
        var globex = await _host.ClientAsync("globex", "dev", Permissions.Admin);

        await (await globex.GetAsync(Url($"/api/v1/keys/{acmeKey.Id}"))).ProblemAsync(404);
        await (await globex.DeleteAsync(Url($"/api/v1/keys/{acmeKey.Id}"))).ProblemAsync(404);
        Assert.Equal(HttpStatusCode.OK, (await _host.WithToken(acmeKey.Token).GetAsync(Url("/api/v1/me"))).StatusCode);
    }

    [Fact]
    public async Task Given_a_key_When_asking_who_am_i_Then_tenant_environment_and_permissions_come_from_the_credential()
    {
        var key = await _host.IssueKeyAsync("acme", "prod", Permissions.EventsWrite, Permissions.AuditRead);
        var me = await (await _host.WithToken(key.Token).GetAsync(Url("/api/v1/me"))).JsonAsync();
        Assert.Equal("acme", me["tenant_id"]!.GetValue<string>());
        Assert.Equal("prod", me["environment"]!.GetValue<string>());
        Assert.Equal([Permissions.AuditRead, Permissions.EventsWrite], me["permissions"]!.AsArray().Select(p => p!.GetValue<string>()).Order());
    }

    [Fact]
    public async Task Given_a_tenant_admin_who_is_not_the_operator_When_creating_a_tenant_Then_403_and_the_operator_may()
    {
        var acme = await _host.ClientAsync("acme", "dev", Permissions.Admin);
        await (await acme.PostJsonAsync("/api/v1/admin/tenants", new { id = "initech", name = "Initech", environments = new[] { "dev" } })).ProblemAsync(403);

        var op = await _host.ClientAsync("default", "dev", Permissions.Admin);
        var created = await op.PostJsonAsync("/api/v1/admin/tenants", new { id = "initech", name = "Initech", environments = new[] { "dev" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var issued = await op.PostJsonAsync("/api/v1/admin/tenants/initech/environments/dev/keys", new { name = "first", permissions = new[] { "admin" } });
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        var token = (await issued.JsonAsync())["token"]!.GetValue<string>();
        var me = await (await _host.WithToken(token).GetAsync(Url("/api/v1/me"))).JsonAsync();
        Assert.Equal("initech", me["tenant_id"]!.GetValue<string>());
    }
}

public sealed class SqliteAuthMatrixTests : AuthMatrixTests
{
    protected override StoreKind Kind => StoreKind.Sqlite;
}

public sealed class PostgresAuthMatrixTests : AuthMatrixTests
{
    protected override StoreKind Kind => StoreKind.Postgres;
}
