using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.Tokens;

namespace Triggers.Modular.BuildingBlocks.Security;

/// <summary>JWT settings (<c>Auth:Jwt</c>): an <see cref="Authority"/> publishing its keys, or <see cref="SigningKeys"/>.</summary>
public sealed class JwtSettings
{
    public string? Authority { get; set; }
    public string? Issuer { get; set; }
    public string? Audience { get; set; }

    /// <summary>Base64 symmetric keys (HS256), at least 32 bytes each; several allow rotation.</summary>
    public IList<string> SigningKeys { get; } = [];

    public bool RequireHttpsMetadata { get; set; } = true;

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority) || SigningKeys.Count > 0;
}

public static class SecurityRegistration
{
    public const string BearerScheme = "Bearer";
    public const string ApiKeyScheme = "ApiKey";
    public const string JwtScheme = "Jwt";

    /// <summary>
    /// <c>Authorization: Bearer</c> with an API key (<c>tmk_…</c>, checked by the registered <see cref="IApiKeyValidator"/>)
    /// or a JWT (claims <c>tenant</c>, <c>environment</c>, <c>permissions</c>); one policy per permission (<c>admin</c>
    /// satisfies all of them), plus <see cref="Policies.Authenticated"/> and <see cref="Policies.Operator"/>.
    /// </summary>
    public static IServiceCollection AddPlatformSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var jwt = new JwtSettings();
        configuration.GetSection("Auth:Jwt").Bind(jwt);
        var operatorTenant = configuration["Tenancy:OperatorTenant"] ?? "default";

        var auth = services.AddAuthentication(BearerScheme)
            .AddPolicyScheme(BearerScheme, "API key or JWT", o => o.ForwardDefaultSelector = context =>
                !jwt.Enabled || (BearerToken.From(context.Request)?.StartsWith(ApiKeyToken.Prefix, StringComparison.Ordinal) ?? true)
                    ? ApiKeyScheme
                    : JwtScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyScheme, null);
        if (jwt.Enabled) auth.AddJwtBearer(JwtScheme, o => ConfigureJwt(o, jwt));

        // Without a module that issues keys (Tenancy switched off), every API key is refused.
        services.TryAddSingleton<IApiKeyValidator, NoApiKeys>();
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Authenticated, p => p.RequireAuthenticatedUser().RequireClaim(TenantClaims.Tenant).RequireClaim(TenantClaims.Environment))
            .AddPolicy(Policies.Operator, p => p.RequireAuthenticatedUser()
                .RequireClaim(TenantClaims.Tenant, operatorTenant)
                .RequireClaim(TenantClaims.Permission, Permissions.Admin));
        foreach (var permission in Permissions.All)
            services.AddAuthorizationBuilder().AddPolicy(permission, p => p.RequireAuthenticatedUser()
                .RequireClaim(TenantClaims.Tenant).RequireClaim(TenantClaims.Environment)
                .RequireClaim(TenantClaims.Permission, permission, Permissions.Admin));
        return services;
    }

    /// <summary>Exactly one well-formed tenant, one environment and a subject; anything else is not a usable credential.</summary>
    private static string? ScopeError(ClaimsPrincipal principal)
    {
        foreach (var type in new[] { TenantClaims.Tenant, TenantClaims.Environment })
        {
            var values = principal.FindAll(type).Select(c => c.Value).ToList();
            if (values.Count != 1 || !JwtScope.Slug().IsMatch(values[0])) return $"The token must carry exactly one well-formed '{type}' claim.";
        }

        return string.IsNullOrWhiteSpace(principal.FindFirst("sub")?.Value) ? "The token carries no 'sub' claim." : null;
    }

    private static void ConfigureJwt(JwtBearerOptions o, JwtSettings jwt)
    {
        // A token from an authority is only ours if it was minted for us: the audience is required then.
        if (!string.IsNullOrWhiteSpace(jwt.Authority) && string.IsNullOrWhiteSpace(jwt.Audience))
            throw new InvalidOperationException("Auth:Jwt:Authority is set but Auth:Jwt:Audience is not; set the audience this service's tokens carry.");
        o.MapInboundClaims = false;
        o.RequireHttpsMetadata = jwt.RequireHttpsMetadata;
        if (!string.IsNullOrWhiteSpace(jwt.Authority)) o.Authority = jwt.Authority;
        o.TokenValidationParameters = new TokenValidationParameters
        {
            ValidateIssuer = jwt.Issuer is not null || !string.IsNullOrWhiteSpace(jwt.Authority), // an authority's issuer comes from its metadata
            ValidIssuer = jwt.Issuer,
            ValidateAudience = jwt.Audience is not null,
            ValidAudience = jwt.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.FromSeconds(30),
            NameClaimType = "sub",
            ValidAlgorithms = jwt.SigningKeys.Count > 0 && string.IsNullOrWhiteSpace(jwt.Authority)
                ? [SecurityAlgorithms.HmacSha256, SecurityAlgorithms.HmacSha384, SecurityAlgorithms.HmacSha512]
                : [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512, SecurityAlgorithms.RsaSsaPssSha256,
                    SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.HmacSha256],
            IssuerSigningKeys = jwt.SigningKeys.Select(k => new SymmetricSecurityKey(Convert.FromBase64String(k))).ToList(),
        };
        o.Events = new JwtBearerEvents
        {
            OnTokenValidated = context =>
            {
                var principal = context.Principal!;
                if (ScopeError(principal) is { } error)
                {
                    context.Fail(error);
                    return Task.CompletedTask;
                }

                // "permissions" may come as a JSON array (one claim each) or as one space-separated string.
                var extra = new ClaimsIdentity();
                foreach (var claim in principal.FindAll(TenantClaims.Permission).Where(c => c.Value.Contains(' ', StringComparison.Ordinal)))
                    foreach (var p in claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                        extra.AddClaim(new Claim(TenantClaims.Permission, p));
                extra.AddClaim(new Claim(TenantClaims.Actor, "jwt:" + (principal.FindFirst("sub")?.Value ?? "unknown")));
                principal.AddIdentity(extra);
                return Task.CompletedTask;
            },
            OnChallenge = context =>
            {
                context.HandleResponse();
                return Challenges.UnauthorizedAsync(context.HttpContext);
            },
            OnForbidden = context => Challenges.ForbiddenAsync(context.HttpContext),
        };
    }
}

internal static partial class JwtScope
{
    [System.Text.RegularExpressions.GeneratedRegex("^[a-z][a-z0-9-]{0,39}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    internal static partial System.Text.RegularExpressions.Regex Slug();
}

internal sealed class NoApiKeys : IApiKeyValidator
{
    public ValueTask<ApiKeyIdentity?> ValidateAsync(string token, CancellationToken cancellationToken) => ValueTask.FromResult<ApiKeyIdentity?>(null);
}
