using System.Net;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Host.Cli;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Audit;

/// <summary>Projection status for operators (issue 9, first part of projection administration): every read model and
/// processor with its stored checkpoint, the head and its lag — through the API (operator only) and the host verb.</summary>
public sealed class ProjectionAdminTests
{
    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_a_running_host_When_an_operator_lists_projections_Then_each_shows_its_kind_checkpoint_head_and_lag(StoreKind kind)
    {
        await using var host = await ApiHost.StartAsync(kind);
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute);
        var execution = await TriggerAsync(client, await CreateDefinitionAsync(client, """[ { "id": "s", "type": "set", "config": { "values": { "a": 1 } } } ]"""));
        await WaitForStatusAsync(client, execution, "completed");
        var operatorClient = await host.ClientAsync("default", "dev", Permissions.Admin);

        var list = await EventuallyAsync(async () => await (await operatorClient.GetAsync(Url("/api/v1/admin/projections"))).JsonAsync(),
            l => l["items"]!.AsArray().Where(i => Str(i!["kind"]) == "projection").All(i => i!["lag"]!.GetValue<long>() == 0),
            "every read model caught up");
        var items = list["items"]!.AsArray().ToDictionary(i => Str(i!["name"]), i => i!);
        foreach (var name in new[] { "executions", "triggers", "schedules", "definitions", "webhook-requests" })
            Assert.Equal("projection", Str(items[name]["kind"]));
        Assert.Equal("processor", Str(items["executions-triggered"]["kind"]));
        var executions = items["executions"];
        Assert.Equal("live", Str(executions["state"]));
        Assert.NotEqual("0_0", Str(executions["checkpoint"]));
        Assert.False(string.IsNullOrEmpty(Str(executions["head"])));

        // Operators only: an admin of another tenant is refused.
        var tenantAdmin = await host.ClientAsync("acme", "dev", Permissions.Admin);
        Assert.Equal(HttpStatusCode.Forbidden, (await tenantAdmin.GetAsync(Url("/api/v1/admin/projections"))).StatusCode);

        await using var output = new StringWriter();
        Assert.Equal(0, await AuditCli.RunAsync(host.Services, ["projections", "list"], output));
        Assert.Contains("executions-triggered", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("schedules", output.ToString(), StringComparison.Ordinal);
    }
}
