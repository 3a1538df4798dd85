using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.Tenancy.Contracts;

namespace Triggers.Modular.Host.Cli;

/// <summary>One CLI verb: its positional argument count, options, required options and action.</summary>
internal sealed record CliCommand(string Verb, int Positional, IReadOnlySet<string> Options, IReadOnlyList<string> Required,
    Func<ITenancyModule, CliArguments, TextWriter, Task> Run);

internal static class TenancyCliCommands
{
    private static readonly CliCommand[] All =
    [
        new("tenants create", 1, Set("name", "environments"), [], async (m, a, o) =>
        {
            var tenant = await m.CreateTenantAsync(a.Positional[0], a.Option("name") ?? a.Positional[0], CliArguments.List(a.Option("environments")));
            await o.WriteLineAsync($"Created tenant '{tenant.Id}' ({tenant.Name}) with environments: {Join(tenant.Environments)}.");
        }),
        new("tenants list", 0, Set(), [], async (m, _, o) =>
            await Table.WriteAsync(o, ["ID", "NAME", "ENVIRONMENTS", "CREATED"],
                (await m.ListTenantsAsync()).Select(t => new[] { t.Id, t.Name, Join(t.Environments), TenancyCli.Time(t.CreatedAt) }))),
        new("environments create", 1, Set("tenant"), ["tenant"], async (m, a, o) =>
        {
            var environment = await m.CreateEnvironmentAsync(a.Option("tenant")!, a.Positional[0]);
            await o.WriteLineAsync($"Created environment '{environment.Name}' of tenant '{environment.TenantId}'.");
        }),
        new("keys create", 0, Set("tenant", "environment", "permissions", "name"), ["tenant", "environment", "permissions"], async (m, a, o) =>
        {
            var key = await m.IssueApiKeyAsync(a.Option("tenant")!, a.Option("environment")!, a.Option("name") ?? "cli",
                CliArguments.List(a.Option("permissions")));
            await o.WriteLineAsync($"Created API key {key.Id} ({key.Prefix}) for {key.TenantId}/{key.Environment}: {Join(key.Permissions)}.");
            await TenancyCli.WriteTokenAsync(o, key.Token);
        }),
        new("keys revoke", 1, Set("tenant", "environment"), ["tenant", "environment"], async (m, a, o) =>
        {
            await m.RevokeApiKeyAsync(a.Option("tenant")!, a.Option("environment")!, a.Positional[0]);
            await o.WriteLineAsync($"Revoked API key {a.Positional[0]}.");
        }),
        new("keys list", 0, Set("tenant", "environment"), ["tenant", "environment"], async (m, a, o) =>
        {
            var (tenant, environment) = (a.Option("tenant")!, a.Option("environment")!);
            // An empty table would read as "no keys" for a typo in the tenant or environment.
            if ((await m.ListTenantsAsync()).FirstOrDefault(t => t.Id == tenant) is not { } found || !found.Environments.Contains(environment))
                throw new NotFoundException("Environment", $"{tenant}/{environment}");
            await Table.WriteAsync(o, ["PREFIX", "ID", "NAME", "PERMISSIONS", "CREATED", "REVOKED"],
                (await m.ListApiKeysAsync(tenant, environment)).Select(k => new[]
                    { k.Prefix, k.Id, k.Name, Join(k.Permissions), TenancyCli.Time(k.CreatedAt), TenancyCli.Time(k.RevokedAt) }));
        }),
    ];

    public static CliCommand? Find(string verb) => All.FirstOrDefault(c => c.Verb == verb);

    private static HashSet<string> Set(params string[] options) => new(options, StringComparer.Ordinal);

    private static string Join(IEnumerable<string> values) => values.Any() ? string.Join(",", values) : "-";
}

internal static class Table
{
    public static async Task WriteAsync(TextWriter output, string[] header, IEnumerable<string[]> rows)
    {
        var all = rows.Prepend(header).ToList();
        var widths = header.Select((_, i) => all.Max(r => r[i].Length)).ToArray();
        foreach (var row in all)
            await output.WriteLineAsync(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
    }
}
