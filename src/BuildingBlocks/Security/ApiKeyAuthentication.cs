using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Triggers.Modular.BuildingBlocks.Web;

namespace Triggers.Modular.BuildingBlocks.Security;

/// <summary>What a valid API key stands for.</summary>
public sealed record ApiKeyIdentity(string KeyId, string TenantId, string Environment, IReadOnlyList<string> Permissions);

/// <summary>Checks an API key token (<c>tmk_…</c>); implemented by the module that issues keys.</summary>
public interface IApiKeyValidator
{
    /// <summary>The key's identity, or null when the token is malformed, unknown or revoked.</summary>
    ValueTask<ApiKeyIdentity?> ValidateAsync(string token, CancellationToken cancellationToken);
}

public static class ApiKeyToken
{
    /// <summary>Every API key token starts with this, which tells it apart from a JWT.</summary>
    public const string Prefix = "tmk_";
}

internal sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger,
    UrlEncoder encoder, IApiKeyValidator validator) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerToken.From(Request) is not { } token) return AuthenticateResult.NoResult();
        if (!token.StartsWith(ApiKeyToken.Prefix, StringComparison.Ordinal)) return AuthenticateResult.NoResult();
        var identity = await validator.ValidateAsync(token, Context.RequestAborted);
        if (identity is null) return AuthenticateResult.Fail("Unknown or revoked API key.");

        var claims = new List<Claim>
        {
            new(TenantClaims.Tenant, identity.TenantId),
            new(TenantClaims.Environment, identity.Environment),
            new(TenantClaims.KeyId, identity.KeyId),
            new(TenantClaims.Actor, "key:" + identity.KeyId),
        };
        claims.AddRange(identity.Permissions.Select(p => new Claim(TenantClaims.Permission, p)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name, TenantClaims.KeyId, null));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) => Challenges.UnauthorizedAsync(Context);

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => Challenges.ForbiddenAsync(Context);
}

internal static class BearerToken
{
    public static string? From(Microsoft.AspNetCore.Http.HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return null;
        var token = header["Bearer ".Length..].Trim();
        return token.Length == 0 ? null : token;
    }
}

internal static class Challenges
{
    public static Task UnauthorizedAsync(Microsoft.AspNetCore.Http.HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        var detail = BearerToken.From(context.Request) is null
            ? "Send 'Authorization: Bearer <token>' with an API key or a JWT."
            : "The bearer token is not valid: unknown, revoked, expired or malformed.";
        return ProblemResponses.WriteAsync(context, 401, "unauthenticated", "Unauthenticated", detail);
    }

    public static Task ForbiddenAsync(Microsoft.AspNetCore.Http.HttpContext context)
    {
        var required = context.GetEndpoint()?.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>()
            .Select(a => a.Policy).OfType<string>().ToList() ?? [];
        var detail = required.Count == 0
            ? "The credential may not perform this operation."
            : $"The credential lacks what this operation requires: {string.Join(", ", required)}.";
        return ProblemResponses.WriteAsync(context, 403, "forbidden", "Forbidden", detail);
    }
}
