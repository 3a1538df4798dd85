using System.Text.Json;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.Triggers.Contracts;

namespace Triggers.Modular.Triggers.Domain;

/// <summary>A trigger folded from its stream.</summary>
internal sealed record TriggerState(bool Exists, bool Deleted, string Id, string TenantId, string Environment, string WorkflowId, string Name,
    string Type, bool Enabled, JsonElement Config, string Source, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static TriggerState Initial { get; } = new(false, false, "", "", "", "", "", "", false, default, "", default, default);

    /// <summary>When a schedule trigger's cadence began: its creation, its last enabling, or the last change of its expression
    /// or zone (<see cref="Schedules.ScheduleConfig.RestartsCadence"/>).</summary>
    public DateTimeOffset CadenceSince { get; init; }

    public bool BelongsTo(string tenantId, string environment) =>
        Exists && string.Equals(TenantId, tenantId, StringComparison.Ordinal) && string.Equals(Environment, environment, StringComparison.Ordinal);
}

internal abstract record TriggerCommand
{
    public sealed record Create(string Id, string TenantId, string Environment, string WorkflowId, string Name, string Type, bool Enabled,
        JsonElement Config, string Source, DateTimeOffset At) : TriggerCommand;

    /// <summary>A command on an existing trigger, by a caller in <see cref="TenantId"/> × <see cref="Environment"/>.</summary>
    public abstract record Existing(string Id, string TenantId, string Environment) : TriggerCommand;

    /// <summary>The type never changes (delete and create instead); <see cref="Enabled"/> null keeps it.</summary>
    public sealed record Update(string Id, string TenantId, string Environment, string WorkflowId, string Name, bool? Enabled, JsonElement Config,
        DateTimeOffset At) : Existing(Id, TenantId, Environment);

    public sealed record Enable(string Id, string TenantId, string Environment, DateTimeOffset At) : Existing(Id, TenantId, Environment);

    public sealed record Disable(string Id, string TenantId, string Environment, DateTimeOffset At) : Existing(Id, TenantId, Environment);

    public sealed record Delete(string Id, string TenantId, string Environment, DateTimeOffset At) : Existing(Id, TenantId, Environment);

    /// <summary>Records a webhook secret's rotation (the secret itself is stored beside the store, never in an event).</summary>
    public sealed record RotateSecret(string Id, string TenantId, string Environment, int Version, DateTimeOffset PreviousExpiresAt, DateTimeOffset At)
        : Existing(Id, TenantId, Environment);
}

/// <summary>Pure. An update that changes nothing decides nothing; enable and disable are no-ops when already so;
/// delete is final.</summary>
internal sealed class TriggerDecider : IDecider<TriggerState, TriggerCommand, IEvent>
{
    public static TriggerDecider Instance { get; } = new();

    public TriggerState Initial => TriggerState.Initial;

    public IReadOnlyList<IEvent> Decide(TriggerState state, TriggerCommand command)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (command is TriggerCommand.Create c)
        {
            if (state.Exists) throw new ConflictException($"Trigger '{c.Id}' already exists.");
            return [new TriggerCreated(c.Id, c.TenantId, c.Environment, c.WorkflowId, c.Name, c.Type, c.Enabled, c.Config, c.Source, c.At)];
        }

        var existing = (TriggerCommand.Existing)command;
        // Another tenant's or environment's trigger answers exactly like a missing one.
        if (!state.BelongsTo(existing.TenantId, existing.Environment) || state.Deleted) throw new NotFoundException("Trigger", existing.Id);
        return command switch
        {
            TriggerCommand.Update u when u.WorkflowId == state.WorkflowId && u.Name == state.Name && (u.Enabled ?? state.Enabled) == state.Enabled
                                         && JsonElement.DeepEquals(u.Config, state.Config) => [],
            TriggerCommand.Update u => [new TriggerUpdated(state.Id, state.TenantId, state.Environment, u.WorkflowId, u.Name, u.Enabled ?? state.Enabled, u.Config, u.At)],
            TriggerCommand.Enable e => state.Enabled ? [] : [new TriggerEnabled(state.Id, state.TenantId, state.Environment, e.At)],
            TriggerCommand.Disable d => !state.Enabled ? [] : [new TriggerDisabled(state.Id, state.TenantId, state.Environment, d.At)],
            TriggerCommand.Delete d => [new TriggerDeleted(state.Id, state.TenantId, state.Environment, d.At)],
            TriggerCommand.RotateSecret when state.Type != "webhook" =>
                throw new ConflictException($"Trigger '{state.Id}' is a {state.Type} trigger; only webhook triggers have a secret.", "not-a-webhook"),
            TriggerCommand.RotateSecret r => [new WebhookSecretRotated(state.Id, state.TenantId, state.Environment, r.Version, r.PreviousExpiresAt, r.At)],
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown command."),
        };
    }

    public TriggerState Evolve(TriggerState state, IEvent @event) => @event switch
    {
        TriggerCreated e => new TriggerState(true, false, e.TriggerId, e.TenantId, e.Environment, e.WorkflowId, e.Name, e.Type, e.Enabled, e.Config,
            e.Source, e.At, e.At) { CadenceSince = e.At },
        TriggerUpdated e => state with
        {
            WorkflowId = e.WorkflowId, Name = e.Name, Enabled = e.Enabled, Config = e.Config, UpdatedAt = e.At,
            CadenceSince = Schedules.ScheduleConfig.RestartsCadence(state.Config, state.Enabled, e.Config, e.Enabled) ? e.At : state.CadenceSince,
        },
        TriggerEnabled e => state with { Enabled = true, UpdatedAt = e.At, CadenceSince = e.At },
        TriggerDisabled e => state with { Enabled = false, UpdatedAt = e.At },
        TriggerDeleted e => state with { Deleted = true, UpdatedAt = e.At },
        _ => state,
    };
}
