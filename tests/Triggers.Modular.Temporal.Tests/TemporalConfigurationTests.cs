using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;

namespace Triggers.Modular.Temporal.Tests;

/// <summary>The runtime is chosen by configuration; a Temporal runtime without what it needs stops the host at start with
/// the setting to fix, instead of running nothing.</summary>
public sealed class TemporalConfigurationTests
{
    [Theory]
    [InlineData(null, "Temporal:Address is required")]
    [InlineData("localhost:7233|cert-only", "Temporal:ClientCertPath and Temporal:ClientKeyPath go together")]
    public async Task Given_the_temporal_runtime_misconfigured_When_the_host_starts_Then_it_refuses_naming_the_setting(string? address, string expected)
    {
        var settings = new Dictionary<string, string?> { ["Executions:Runtime:Mode"] = "temporal", ["Temporal:Address"] = address?.Split('|')[0] };
        if (address?.EndsWith("cert-only", StringComparison.Ordinal) == true) settings["Temporal:ClientCertPath"] = "/etc/hostname";

        var error = await Assert.ThrowsAnyAsync<Exception>(() => ApiHost.StartAsync(StoreKind.Sqlite, settings));

        Assert.Contains(expected, Flatten(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Given_an_unknown_runtime_When_the_host_starts_Then_it_refuses_listing_the_runtimes()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() =>
            ApiHost.StartAsync(StoreKind.Sqlite, new Dictionary<string, string?> { ["Executions:Runtime:Mode"] = "temporall" }));

        Assert.Contains("Executions:Runtime:Mode must be one of embedded, temporal, none; it is 'temporall'", Flatten(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Given_the_temporal_runtime_with_the_temporal_module_switched_off_When_the_host_starts_Then_it_refuses()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => ApiHost.StartAsync(StoreKind.Sqlite, new Dictionary<string, string?>
        {
            ["Executions:Runtime:Mode"] = "temporal", ["Temporal:Address"] = "localhost:7233", ["Modules:Temporal:Enabled"] = "false",
        }));

        Assert.Contains("needs the Temporal module", Flatten(error), StringComparison.Ordinal);
    }

    private static string Flatten(Exception e) => e.InnerException is null ? e.Message : $"{e.Message} | {Flatten(e.InnerException)}";
}
