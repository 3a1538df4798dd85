using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.Host.Cli;
using Triggers.Modular.Tenancy.Tests.Support;

namespace Triggers.Modular.Tenancy.Tests.Cli;

public sealed class TenancyCliTests
{
    private static async Task<(int Exit, string Output)> RunAsync(TenancyServices services, params string[] args)
    {
        Assert.True(TenancyCli.IsCommand(args) || args.Length == 0 || args[0] == "frobnicate");
        await using var output = new StringWriter();
        var exit = await TenancyCli.RunAsync(services.Provider, args, output);
        return (exit, output.ToString());
    }

    [Fact]
    public void Given_host_arguments_When_checked_Then_only_tenancy_verbs_are_cli_commands()
    {
        Assert.True(TenancyCli.IsCommand(["keys", "list"]));
        Assert.True(TenancyCli.IsCommand(["tenants"]));
        Assert.False(TenancyCli.IsCommand([]));
        Assert.False(TenancyCli.IsCommand(["--urls", "http://127.0.0.1:5000"]));
        Assert.False(TenancyCli.IsCommand(["serve"]));
    }

    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_the_cli_When_an_operator_sets_up_a_tenant_and_keys_Then_each_verb_succeeds_and_tokens_are_printed_only_once(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using var services = await TenancyServices.CreateAsync(h);

        var created = await RunAsync(services, "tenants", "create", "acme", "--name", "Acme Corp", "--environments", "dev,prod");
        var env = await RunAsync(services, "environments", "create", "staging", "--tenant=acme", "--EventStore:Provider=sqlite");
        var issued = await RunAsync(services, "keys", "create", "--tenant", "acme", "--environment", "prod", "--permissions", "events:write,workflows:read",
            "--name", "deploy");
        var token = issued.Output.Split('\n', StringSplitOptions.TrimEntries).Single(l => l.StartsWith("tmk_", StringComparison.Ordinal) && l.Length == 83);
        var keyId = "key_" + token[4..30];
        var listed = await RunAsync(services, "keys", "list", "--tenant", "acme", "--environment", "prod");
        var revoked = await RunAsync(services, "keys", "revoke", keyId, "--tenant", "acme", "--environment", "prod");
        var relisted = await RunAsync(services, "keys", "list", "--tenant", "acme", "--environment", "prod");
        var tenants = await RunAsync(services, "tenants", "list");

        Assert.All(new[] { created, env, issued, listed, revoked, relisted, tenants }, r => Assert.Equal(0, r.Exit));
        Assert.Contains("not stored", issued.Output, StringComparison.Ordinal);
        Assert.Contains(keyId, listed.Output, StringComparison.Ordinal);
        Assert.Contains("tmk_" + token[4..30], listed.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(token[31..], listed.Output + relisted.Output + tenants.Output, StringComparison.Ordinal);
        Assert.Contains("events:write,workflows:read", listed.Output, StringComparison.Ordinal);
        Assert.EndsWith("-", listed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].TrimEnd(), StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\s-\s*$", relisted.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1]);
        Assert.Contains("dev,prod,staging", tenants.Output, StringComparison.Ordinal);
        Assert.Contains("Acme Corp", tenants.Output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Stores.Kinds), MemberType = typeof(Stores))]
    public async Task Given_bad_usage_or_a_refused_command_When_run_Then_exit_2_with_usage_or_1_with_the_reason(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        await using var services = await TenancyServices.CreateAsync(h);

        var noVerb = await RunAsync(services, "keys");
        var unknownVerb = await RunAsync(services, "keys", "rotate");
        var missingOption = await RunAsync(services, "keys", "list", "--tenant", "acme");
        var unknownOption = await RunAsync(services, "tenants", "list", "--all");
        var extraPositional = await RunAsync(services, "tenants", "create", "a1", "b2");
        var badSlug = await RunAsync(services, "tenants", "create", "Not_A_Slug");
        var badPermission = await RunAsync(services, "keys", "create", "--tenant", "acme", "--environment", "dev", "--permissions", "root");
        var missingTenant = await RunAsync(services, "environments", "create", "dev", "--tenant", "ghost");
        var unknownKey = await RunAsync(services, "keys", "revoke", "key_01JD0000000000000000000000", "--tenant", "acme", "--environment", "dev");
        var listGhost = await RunAsync(services, "keys", "list", "--tenant", "ghost", "--environment", "dev");

        Assert.All(new[] { noVerb, unknownVerb, missingOption, unknownOption, extraPositional }, r =>
        {
            Assert.Equal(2, r.Exit);
            Assert.Contains("Usage:", r.Output, StringComparison.Ordinal);
        });
        Assert.Equal(1, badSlug.Exit);
        Assert.Contains("error: id: Must be a tenant id", badSlug.Output, StringComparison.Ordinal);
        Assert.Equal(1, badPermission.Exit);
        Assert.Contains("'root'", badPermission.Output, StringComparison.Ordinal);
        Assert.Equal((1, "error: Tenant 'ghost' was not found."), (missingTenant.Exit, missingTenant.Output.Trim()));
        Assert.Equal(1, unknownKey.Exit);
        Assert.Contains("was not found", unknownKey.Output, StringComparison.Ordinal);
        Assert.Equal((1, "error: Environment 'ghost/dev' was not found."), (listGhost.Exit, listGhost.Output.Trim()));
    }
}
