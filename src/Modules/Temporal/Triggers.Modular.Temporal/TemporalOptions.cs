namespace Triggers.Modular.Temporal;

/// <summary>The <c>Temporal</c> section: where the Temporal runtime (<c>Executions:Runtime:Mode=temporal</c>) connects.</summary>
internal sealed class TemporalOptions
{
    /// <summary>The frontend, <c>host:port</c>.</summary>
    public string Address { get; set; } = "";

    public string Namespace { get; set; } = "default";

    /// <summary>The task queue the executions' workflows and activities run on (every instance of the service polls it).</summary>
    public string TaskQueue { get; set; } = "triggers-executions";

    /// <summary>Connect with TLS (implied by <see cref="ApiKey"/> and by a client certificate).</summary>
    public bool Tls { get; set; }

    /// <summary>API key (Temporal Cloud); sent as a bearer token over TLS.</summary>
    public string? ApiKey { get; set; }

    /// <summary>PEM files of a client certificate and its key (mTLS).</summary>
    public string? ClientCertPath { get; set; }

    public string? ClientKeyPath { get; set; }

    /// <summary>PEM file of the CA that signed the server's certificate, when not a public one.</summary>
    public string? ServerRootCaPath { get; set; }

    /// <summary>The server name to check the server's certificate against, when not the address's host.</summary>
    public string? ServerName { get; set; }

    /// <summary>Activities (step attempts and decisions) this instance runs at once.</summary>
    public int MaxConcurrentActivities { get; set; } = 64;

    public bool UsesTls => Tls || !string.IsNullOrEmpty(ApiKey) || !string.IsNullOrEmpty(ClientCertPath);

    /// <summary>The configuration problems, empty when none.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Address)) problems.Add("Temporal:Address is required with Executions:Runtime:Mode=temporal (host:port, e.g. localhost:7233).");
        if (string.IsNullOrWhiteSpace(Namespace)) problems.Add("Temporal:Namespace must not be empty.");
        if (string.IsNullOrWhiteSpace(TaskQueue)) problems.Add("Temporal:TaskQueue must not be empty.");
        if (string.IsNullOrEmpty(ClientCertPath) != string.IsNullOrEmpty(ClientKeyPath))
            problems.Add("Temporal:ClientCertPath and Temporal:ClientKeyPath go together.");
        foreach (var (name, path) in new[] { ("ClientCertPath", ClientCertPath), ("ClientKeyPath", ClientKeyPath), ("ServerRootCaPath", ServerRootCaPath) })
            if (!string.IsNullOrEmpty(path) && !File.Exists(path)) problems.Add($"Temporal:{name}: no file at '{path}'.");
        if (MaxConcurrentActivities < 1) problems.Add("Temporal:MaxConcurrentActivities must be at least 1.");
        return problems;
    }
}
