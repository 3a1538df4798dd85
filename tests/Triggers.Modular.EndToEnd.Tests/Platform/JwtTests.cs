using System.IdentityModel.Tokens.Jwt;
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.EndToEnd.Tests.Support;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Platform;

/// <summary>JWT bearer tokens validated against configured signing keys, with tenant, environment and permissions claims.</summary>
public sealed class JwtTests : IAsyncLifetime
{
    private static readonly byte[] SigningKey = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] RotatedKey = RandomNumberGenerator.GetBytes(32);
    private const string Issuer = "https://idp.test";
    private const string Audience = "triggers-modular";
    private ApiHost _host = null!;

    public async Task InitializeAsync() => _host = await ApiHost.StartAsync(settings: new()
    {
        ["Auth:Jwt:SigningKeys:0"] = Convert.ToBase64String(SigningKey),
        ["Auth:Jwt:SigningKeys:1"] = Convert.ToBase64String(RotatedKey),
        ["Auth:Jwt:Issuer"] = Issuer,
        ["Auth:Jwt:Audience"] = Audience,
    });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static string Token(IEnumerable<Claim> claims, byte[]? key = null, DateTime? expires = null, string issuer = Issuer,
        string audience = Audience)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(claims),
            Issuer = issuer,
            Audience = audience,
            NotBefore = (expires ?? now.AddMinutes(5)).AddMinutes(-10),
            IssuedAt = (expires ?? now.AddMinutes(5)).AddMinutes(-10),
            Expires = expires ?? now.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key ?? SigningKey), SecurityAlgorithms.HmacSha256),
        };
        return new JwtSecurityTokenHandler().WriteToken(new JwtSecurityTokenHandler().CreateToken(descriptor));
    }

    private static Claim[] Claims(string tenant, string environment, params string[] permissions) =>
        [new("sub", "user-42"), new("tenant", tenant), new("environment", environment), .. permissions.Select(p => new Claim("permissions", p))];

    [Fact]
    public async Task Given_a_valid_jwt_When_calling_Then_tenant_environment_and_permissions_come_from_its_claims()
    {
        var client = _host.WithToken(Token(Claims("acme", "prod", Permissions.EventsWrite, Permissions.AuditRead)));

        var me = await (await client.GetAsync(Url("/api/v1/me"))).JsonAsync();

        Assert.Equal("acme", me["tenant_id"]!.GetValue<string>());
        Assert.Equal("prod", me["environment"]!.GetValue<string>());
        Assert.Equal("jwt:user-42", me["actor"]!.GetValue<string>());
        Assert.Equal([Permissions.AuditRead, Permissions.EventsWrite], me["permissions"]!.AsArray().Select(p => p!.GetValue<string>()).Order());
        await (await client.GetAsync(Url("/api/v1/keys"))).ProblemAsync(403);
    }

    [Fact]
    public async Task Given_permissions_as_one_space_separated_claim_When_calling_an_admin_route_Then_it_is_allowed()
    {
        await _host.IssueKeyAsync("acme", "dev", Permissions.Admin);
        var client = _host.WithToken(Token([new("sub", "u"), new("tenant", "acme"), new("environment", "dev"), new("permissions", "workflows:read admin")]));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Url("/api/v1/keys"))).StatusCode);
    }

    [Fact]
    public async Task Given_a_token_signed_with_the_second_configured_key_When_calling_Then_it_is_accepted()
    {
        var client = _host.WithToken(Token(Claims("acme", "dev", Permissions.WorkflowsRead), RotatedKey));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Url("/api/v1/me"))).StatusCode);
    }

    public static TheoryData<string> BadTokens()
    {
        var claims = Claims("acme", "dev", Permissions.Admin);
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""");
        var payload = Base64UrlEncoder.Encode(
            $$"""{"sub":"u","tenant":"acme","environment":"dev","permissions":["admin"],"iss":"{{Issuer}}","aud":"{{Audience}}","exp":{{DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds()}}}""");
        return new TheoryData<string>
        {
            Token(claims, RandomNumberGenerator.GetBytes(32)), // unknown key
            Token(claims, expires: DateTime.UtcNow.AddMinutes(-5)), // expired beyond the 30 s skew
            Token(claims, issuer: "https://evil.test"),
            Token(claims, audience: "someone-else"),
            Token([new("sub", "u"), new("environment", "dev"), new("permissions", "admin")]), // no tenant
            Token([new("sub", "u"), new("tenant", "acme"), new("permissions", "admin")]), // no environment
            $"{header}.{payload}.", // alg none
            Token([new("tenant", "acme"), new("environment", "dev"), new("permissions", "admin")]), // no sub
            Token([new("sub", "u"), new("tenant", "acme"), new("tenant", "default"), new("environment", "dev"), new("permissions", "admin")]), // two tenants
            Token([new("sub", "u"), new("tenant", ""), new("environment", "dev"), new("permissions", "admin")]), // empty tenant
            Token([new("sub", "u"), new("tenant", "Acme Corp"), new("environment", "dev"), new("permissions", "admin")]), // not a tenant id
        };
    }

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task Given_a_bad_jwt_When_calling_Then_401_problem(string token)
    {
        var response = await _host.WithToken(token).GetAsync(Url("/api/v1/me"));
        await response.ProblemAsync(401);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task Given_a_jwt_of_another_tenant_When_reading_a_key_by_id_Then_404()
    {
        var acmeKey = await _host.IssueKeyAsync("acme", "dev", Permissions.EventsWrite);
        var globex = _host.WithToken(Token(Claims("globex", "dev", Permissions.Admin)));
        await (await globex.GetAsync(Url($"/api/v1/keys/{acmeKey.Id}"))).ProblemAsync(404);
    }

    [Fact]
    public async Task Given_jwt_configured_When_an_api_key_is_sent_Then_it_still_authenticates_as_a_key()
    {
        var key = await _host.IssueKeyAsync("acme", "dev", Permissions.WorkflowsRead);
        var me = await (await _host.WithToken(key.Token).GetAsync(Url("/api/v1/me"))).JsonAsync();
        Assert.Equal("key:" + key.Id, me["actor"]!.GetValue<string>());
    }
}
