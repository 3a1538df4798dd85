using Dapper;
using System.Text.Json;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Projections;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Triggers.Contracts;

namespace Triggers.Modular.Triggers.ReadModel;

/// <summary>Every live trigger, for lists and for routing. A single trigger is read from its stream instead.</summary>
internal sealed class TriggersProjection(EventSerializer serializer) : IProjection
{
    public static IMigrationSource Migrations { get; } = new EmbeddedMigrationSource(
        "triggers", typeof(TriggersProjection).Assembly, "Triggers.Modular.Triggers.ReadModel");

    public string Name => "triggers";

    public AllFilter? Filter { get; } = AllFilter.ForCategories(TriggerEventTypes.Category);

    public static string Table(StoreDialect dialect) => dialect == StoreDialect.Postgres ? "triggers.triggers" : "triggers_triggers";

    public IReadOnlyList<string> Tables(StoreDialect dialect) => [Table(dialect)];

    public async Task ApplyAsync(RecordedEvent e, ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(context);
        if (!serializer.Registry.IsRegistered(e.Type)) return;
        var d = context.Dialect;
        var t = context.Table(Table(d));
        var @event = serializer.Deserialize(e);
        if (@event is TriggerUpdated updated)
        {
            await UpdateAsync(updated, context, cancellationToken).ConfigureAwait(false);
            return;
        }

        await (@event switch
        {
            TriggerCreated c => context.ExecuteAsync($"INSERT INTO {t} (trigger_id, tenant_id, environment, workflow_id, name, type, enabled, event_name, config, " +
                "source, created_at, updated_at, cadence_since) VALUES (@id, @tenant, @env, @wf, @name, @type, @enabled, @eventName, @config, @source, @at, @at, @at) " +
                "ON CONFLICT (trigger_id) DO NOTHING",
                new { id = c.TriggerId, tenant = c.TenantId, env = c.Environment, wf = c.WorkflowId, name = c.Name, type = c.Type, enabled = c.Enabled,
                    eventName = EventNameOf(c.Type, c.Config), config = c.Config.GetRawText(), source = c.Source, at = SqlTime.Parameter(d, c.At) },
                cancellationToken),
            TriggerEnabled en => context.ExecuteAsync($"UPDATE {t} SET enabled = @enabled, updated_at = @at, cadence_since = @at WHERE trigger_id = @id",
                new { id = en.TriggerId, enabled = true, at = SqlTime.Parameter(d, en.At) }, cancellationToken),
            TriggerDisabled di => context.ExecuteAsync($"UPDATE {t} SET enabled = @enabled, updated_at = @at WHERE trigger_id = @id",
                new { id = di.TriggerId, enabled = false, at = SqlTime.Parameter(d, di.At) }, cancellationToken),
            TriggerDeleted del => context.ExecuteAsync($"DELETE FROM {t} WHERE trigger_id = @id", new { id = del.TriggerId }, cancellationToken),
            _ => Task.FromResult(0),
        }).ConfigureAwait(false);
    }

    /// <summary>An update restarts a schedule's cadence only when <see cref="Schedules.ScheduleConfig.RestartsCadence"/> says
    /// so, which needs the row as it was.</summary>
    private static async Task UpdateAsync(TriggerUpdated u, ProjectionContext context, CancellationToken cancellationToken)
    {
        var d = context.Dialect;
        var t = context.Table(Table(d));
        var before = await context.Connection.QuerySingleOrDefaultAsync(new CommandDefinition(
            $"SELECT config, enabled FROM {t} WHERE trigger_id = @id", new { id = u.TriggerId }, context.Transaction, cancellationToken: cancellationToken))
            .ConfigureAwait(false);
        if (before is null) return;
        bool enabledBefore = SqlBool.Read((object)before.enabled);
        var restarts = Schedules.ScheduleConfig.RestartsCadence(JsonSerializer.Deserialize<JsonElement>((string)before.config), enabledBefore, u.Config, u.Enabled);
        await context.ExecuteAsync($"UPDATE {t} SET workflow_id = @wf, name = @name, enabled = @enabled, " +
            "event_name = CASE WHEN type = 'event' THEN @eventName ELSE NULL END, config = @config, updated_at = @at" +
            (restarts ? ", cadence_since = @at" : "") + " WHERE trigger_id = @id",
            new { id = u.TriggerId, wf = u.WorkflowId, name = u.Name, enabled = u.Enabled, eventName = EventNameOf("event", u.Config),
                config = u.Config.GetRawText(), at = SqlTime.Parameter(d, u.At) }, cancellationToken).ConfigureAwait(false);
    }

    public Task ResetAsync(ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.ExecuteAsync($"DELETE FROM {context.Table(Table(context.Dialect))}", null, cancellationToken);
    }

    private static string? EventNameOf(string type, JsonElement config) =>
        type == "event" && config.ValueKind == JsonValueKind.Object && config.TryGetProperty("event_name", out var n) && n.ValueKind == JsonValueKind.String
            ? n.GetString()
            : null;
}
