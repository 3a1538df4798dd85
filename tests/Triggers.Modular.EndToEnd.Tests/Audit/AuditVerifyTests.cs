using System.Net;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using Triggers.Modular.Host.Cli;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Audit;

/// <summary>Tamper evidence through the API and the operator verb (issue 9): real executions' history verifies; a step
/// result edited directly in the database is named — by event — by both, for its tenant only.</summary>
public sealed class AuditVerifyTests
{
    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_an_executions_history_When_a_stored_step_result_is_edited_in_the_database_Then_verification_names_that_event(StoreKind kind)
    {
        await using var host = await ApiHost.StartAsync(kind);
        var client = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead, Permissions.WorkflowsWrite, Permissions.WorkflowsExecute,
            Permissions.AuditRead);
        var workflow = await CreateDefinitionAsync(client, """[ { "id": "s", "type": "set", "config": { "values": { "amount": 10 } } } ]""");
        var execution = await TriggerAsync(client, workflow);
        await WaitForStatusAsync(client, execution, "completed");
        var other = await host.ClientAsync("globex", "dev", Permissions.AuditRead, Permissions.WorkflowsRead, Permissions.WorkflowsWrite,
            Permissions.WorkflowsExecute);
        await WaitForStatusAsync(other, await TriggerAsync(other, await CreateDefinitionAsync(other,
            """[ { "id": "s", "type": "set", "config": { "values": { "amount": 1 } } } ]""")), "completed");

        // Verification walks what $all readers can see: wait until the run's last event is visible (another database's open
        // transaction on a shared PostgreSQL cluster can hold it back for a moment).
        var auditor = await host.ClientAsync("acme", "dev", Permissions.AuditRead);
        await EventuallyAsync(async () => await (await auditor.GetAsync(Url($"/api/v1/audit/events?stream=execution-{execution}&type=executions.execution_completed")))
            .JsonAsync(), page => page["items"]!.AsArray().Count == 1, "the run's completion visible in the history", seconds: 30);
        var intact = await (await client.PostAsync(Url("/api/v1/audit/verify"), null)).JsonAsync();
        Assert.True(intact["ok"]!.GetValue<bool>(), intact.ToJsonString());
        Assert.True(intact["checked"]!.GetValue<long>() >= 5, intact.ToJsonString());
        Assert.Equal(0, intact["unhashed_legacy"]!.GetValue<long>());

        // Someone with database access rewrites the step's result: amount 10 → 1000.
        var database = host.Services.GetRequiredService<IStoreDatabase>();
        var events = database.Dialect == StoreDialect.Postgres ? "event_store.events" : "es_events";
        string edited;
        await using (var connection = await database.OpenConnectionAsync())
        {
            edited = (await connection.QuerySingleAsync<string>(
                $"SELECT CAST(event_id AS TEXT) FROM {events} WHERE stream_name = @stream AND type = 'executions.step_completed'",
                new { stream = $"execution-{execution}" }));
            var set = database.Dialect == StoreDialect.Postgres ? "data = replace(data::text, '10', '1000')::json" : "data = replace(data, '10', '1000')";
            Assert.Equal(1, await connection.ExecuteAsync($"UPDATE {events} SET {set} WHERE CAST(event_id AS TEXT) = @edited", new { edited }));
        }

        var broken = await (await client.PostAsync(Url("/api/v1/audit/verify"), null)).JsonAsync();
        Assert.False(broken["ok"]!.GetValue<bool>(), broken.ToJsonString());
        var problem = broken["first_problem"]!;
        Assert.Equal(("altered", $"execution-{execution}", edited), (Str(problem["kind"]), Str(problem["stream"]), Str(problem["event_id"])));

        // Another tenant's chains are untouched; the operator verb checks the whole store and names the same event.
        Assert.True((await (await other.PostAsync(Url("/api/v1/audit/verify"), null)).JsonAsync())["ok"]!.GetValue<bool>());
        await using var output = new StringWriter();
        Assert.Equal(1, await AuditCli.RunAsync(host.Services, ["audit", "verify"], output));
        Assert.Contains("BROKEN", output.ToString(), StringComparison.Ordinal);
        Assert.Contains($"altered — stream execution-{execution}", output.ToString(), StringComparison.Ordinal);
        Assert.Contains(edited, output.ToString(), StringComparison.Ordinal);
        await using var scoped = new StringWriter();
        Assert.Equal(0, await AuditCli.RunAsync(host.Services, ["audit", "verify", "--tenant", "globex", "--environment", "dev"], scoped));
        Assert.StartsWith("OK", scoped.ToString(), StringComparison.Ordinal);
        await using var usage = new StringWriter();
        Assert.Equal(2, await AuditCli.RunAsync(host.Services, ["audit", "verify", "--tenant", "globex"], usage));

        // Validation: a position is needed.
        var bad = await (await client.PostAsync(Url("/api/v1/audit/verify?from=yesterday"), null)).ProblemAsync(400);
        Assert.NotNull(bad["errors"]!["from"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await (await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead))
            .PostAsync(Url("/api/v1/audit/verify"), null)).StatusCode);
    }
}
