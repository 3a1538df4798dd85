using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.Tenancy.Tests.Support;

namespace Triggers.Modular.Tenancy.Tests.Api;

/// <summary>The endpoints' routes, binding, policies and response shapes, through HTTP.</summary>
public sealed class TenancyApiTests
{
    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_the_operator_key_When_a_tenant_is_onboarded_and_its_admin_manages_keys_Then_every_endpoint_answers_as_documented(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using var api = await ApiHost.StartAsync(h);
        var root = (await api.Module.EnsureFirstRunAsync())!;
        using var operatorClient = api.ClientWith(root.Token);

        var me = await JsonAsync(await operatorClient.GetAsync(new Uri("/api/v1/me", UriKind.Relative)), HttpStatusCode.OK);
        Assert.Equal(("default", "dev", root.Id, root.Prefix, "key:" + root.Id),
            (me.GetProperty("tenant_id").GetString(), me.GetProperty("environment").GetString(), me.GetProperty("key_id").GetString(),
                me.GetProperty("key_prefix").GetString(), me.GetProperty("actor").GetString()));

        var tenantResponse = await operatorClient.PostAsJsonAsync("/api/v1/admin/tenants", new { id = "acme", name = "Acme Corp", environments = new[] { "dev" } });
        var tenant = await JsonAsync(tenantResponse, HttpStatusCode.Created);
        Assert.Equal("/api/v1/admin/tenants/acme", tenantResponse.Headers.Location?.OriginalString);
        Assert.Equal("acme", tenant.GetProperty("id").GetString());
        Assert.True(tenant.TryGetProperty("created_at", out _));
        var badTenant = await JsonAsync(await operatorClient.PostAsJsonAsync("/api/v1/admin/tenants", new { id = "Bad Id" }), HttpStatusCode.BadRequest);
        Assert.Equal(["Id"], badTenant.GetProperty("errors").EnumerateArray().Select(e => e.GetString()));
        await JsonAsync(await operatorClient.PostAsJsonAsync("/api/v1/admin/tenants", new { id = "acme" }), HttpStatusCode.Conflict);
        await JsonAsync(await operatorClient.PostAsJsonAsync("/api/v1/admin/tenants/acme/environments", new { name = "prod" }), HttpStatusCode.Created);
        await JsonAsync(await operatorClient.PostAsJsonAsync("/api/v1/admin/tenants/acme/environments", new { name = "prod" }), HttpStatusCode.Conflict);

        var keyResponse = await operatorClient.PostAsJsonAsync("/api/v1/admin/tenants/acme/environments/prod/keys",
            new { name = "acme-admin", permissions = new[] { "admin" } });
        var acmeKey = await JsonAsync(keyResponse, HttpStatusCode.Created);
        Assert.Equal("no-store", keyResponse.Headers.CacheControl?.ToString());
        using var acme = api.ClientWith(acmeKey.GetProperty("token").GetString()!);

        await JsonAsync(await acme.GetAsync(new Uri("/api/v1/admin/tenants", UriKind.Relative)), HttpStatusCode.Forbidden);
        var issuedResponse = await acme.PostAsJsonAsync("/api/v1/keys", new { name = "ci", permissions = new[] { "events:write" } });
        var issued = await JsonAsync(issuedResponse, HttpStatusCode.Created);
        var issuedId = issued.GetProperty("id").GetString()!;
        Assert.Equal(("prod", "no-store"), (issued.GetProperty("environment").GetString(), issuedResponse.Headers.CacheControl?.ToString()));
        Assert.Equal($"/api/v1/keys/{issuedId}", issuedResponse.Headers.Location?.OriginalString);

        var got = await JsonAsync(await acme.GetAsync(new Uri($"/api/v1/keys/{issuedId}", UriKind.Relative)), HttpStatusCode.OK);
        Assert.False(got.TryGetProperty("token", out _));
        Assert.Equal("ci", got.GetProperty("name").GetString());
        await JsonAsync(await acme.GetAsync(new Uri($"/api/v1/keys/{root.Id}", UriKind.Relative)), HttpStatusCode.NotFound);
        await JsonAsync(await acme.DeleteAsync(new Uri($"/api/v1/keys/{root.Id}", UriKind.Relative)), HttpStatusCode.NotFound);
        await JsonAsync(await acme.DeleteAsync(new Uri($"/api/v1/keys/{issuedId}", UriKind.Relative)), HttpStatusCode.NoContent);
        await JsonAsync(await acme.DeleteAsync(new Uri($"/api/v1/keys/{issuedId}", UriKind.Relative)), HttpStatusCode.NoContent);
        using (var revoked = api.ClientWith(issued.GetProperty("token").GetString()!))
            await JsonAsync(await revoked.GetAsync(new Uri("/api/v1/me", UriKind.Relative)), HttpStatusCode.Unauthorized);

        var badKey = await JsonAsync(await acme.PostAsJsonAsync("/api/v1/keys", new { name = "x", permissions = new[] { "root" } }), HttpStatusCode.BadRequest);
        Assert.Equal(["Permissions[0]"], badKey.GetProperty("errors").EnumerateArray().Select(e => e.GetString()));
        var envResponse = await acme.PostAsJsonAsync("/api/v1/environments", new { name = "qa" });
        await JsonAsync(envResponse, HttpStatusCode.Created);
        Assert.Equal("/api/v1/environments/qa", envResponse.Headers.Location?.OriginalString);

        await ProjectionCatchUp.RunAsync(api.Services);
        var environments = await JsonAsync(await acme.GetAsync(new Uri("/api/v1/environments", UriKind.Relative)), HttpStatusCode.OK);
        Assert.Equal(["dev", "prod", "qa"], environments.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        var keys = await JsonAsync(await acme.GetAsync(new Uri("/api/v1/keys", UriKind.Relative)), HttpStatusCode.OK);
        Assert.Equal([acmeKey.GetProperty("id").GetString(), issuedId], keys.GetProperty("items").EnumerateArray().Select(k => k.GetProperty("id").GetString()));
        Assert.DoesNotContain("token", keys.GetRawText(), StringComparison.Ordinal);
        var tenants = await JsonAsync(await operatorClient.GetAsync(new Uri("/api/v1/admin/tenants", UriKind.Relative)), HttpStatusCode.OK);
        Assert.Equal(["acme", "default"], tenants.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("id").GetString()));
        await JsonAsync(await api.Client.GetAsync(new Uri("/api/v1/me", UriKind.Relative)), HttpStatusCode.Unauthorized);
    }
}
