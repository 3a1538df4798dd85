namespace Triggers.Modular.BuildingBlocks.Security;

/// <summary>The permissions a credential carries; each is also the name of the authorization policy that requires it.</summary>
public static class Permissions
{
    public const string WorkflowsRead = "workflows:read";
    public const string WorkflowsWrite = "workflows:write";
    public const string WorkflowsExecute = "workflows:execute";
    public const string EventsWrite = "events:write";
    public const string AuditRead = "audit:read";
    public const string Admin = "admin";

    public static IReadOnlyList<string> All { get; } = [WorkflowsRead, WorkflowsWrite, WorkflowsExecute, EventsWrite, AuditRead, Admin];

    public static bool IsKnown(string permission) => All.Contains(permission, StringComparer.Ordinal);
}

/// <summary>Policies beyond one-per-permission.</summary>
public static class Policies
{
    /// <summary>Any authenticated caller, whatever its permissions (e.g. <c>GET /api/v1/me</c>).</summary>
    public const string Authenticated = "authenticated";

    /// <summary><c>admin</c> in the operator tenant (<c>Tenancy:OperatorTenant</c>): manages other tenants.</summary>
    public const string Operator = "operator";
}

/// <summary>Claim types on the authenticated principal, whether it came from an API key or a JWT.</summary>
public static class TenantClaims
{
    public const string Tenant = "tenant";
    public const string Environment = "environment";

    /// <summary>One claim per permission.</summary>
    public const string Permission = "permissions";

    /// <summary>API keys only: the key id (<c>key_…</c>), safe to log.</summary>
    public const string KeyId = "key_id";

    /// <summary>Who acts, as recorded in event metadata: <c>key:{key_id}</c> or <c>jwt:{sub}</c>.</summary>
    public const string Actor = "actor";
}
