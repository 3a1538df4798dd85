using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Triggers.Modular.BuildingBlocks.Security;

namespace Triggers.Modular.EndToEnd.Tests.Observability;

/// <summary>
/// Authenticates whoever sends <c>X-Test-Key-Id</c> (and optionally <c>X-Test-Tenant</c>); no header, no user.
/// Stands in for the real API-key handler so these tests do not depend on issuing keys.
/// </summary>
internal sealed class TestAuthHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Test";
    public const string KeyIdHeader = "X-Test-Key-Id";
    public const string TenantHeader = "X-Test-Tenant";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var keyId = Request.Headers[KeyIdHeader].ToString();
        if (keyId.Length == 0) return Task.FromResult(AuthenticateResult.NoResult());

        var tenant = Request.Headers[TenantHeader].ToString();
        var identity = new ClaimsIdentity(
            [
                new Claim(TenantClaims.KeyId, keyId),
                new Claim(TenantClaims.Tenant, tenant.Length == 0 ? "acme" : tenant),
                new Claim(TenantClaims.Environment, "dev"),
            ],
            SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
