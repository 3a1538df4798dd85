using System.Text.Json;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.Definitions.Contracts;

namespace Triggers.Modular.Definitions.Domain;

internal abstract record DefinitionCommand
{
    public sealed record Create(string Id, string TenantId, string Environment, string Name, bool Enabled, JsonElement Definition, DateTimeOffset At)
        : DefinitionCommand;

    /// <summary>A command on an existing definition, by a caller in <see cref="TenantId"/> × <see cref="Environment"/>.</summary>
    public abstract record Existing(string Id, string TenantId, string Environment) : DefinitionCommand;

    /// <summary><see cref="ExpectedVersions"/>: the versions an <c>If-Match</c> accepts (empty: none can match), or null without one.</summary>
    public sealed record Update(string Id, string TenantId, string Environment, IReadOnlyList<int>? ExpectedVersions, string Name, bool? Enabled,
        JsonElement Definition, DateTimeOffset At) : Existing(Id, TenantId, Environment);

    public sealed record Enable(string Id, string TenantId, string Environment, DateTimeOffset At) : Existing(Id, TenantId, Environment);

    public sealed record Disable(string Id, string TenantId, string Environment, DateTimeOffset At) : Existing(Id, TenantId, Environment);

    public sealed record Delete(string Id, string TenantId, string Environment, DateTimeOffset At) : Existing(Id, TenantId, Environment);
}

/// <summary>Pure: a new version per update; enable/disable change the status only; delete is final.</summary>
internal sealed class DefinitionDecider : IDecider<DefinitionState, DefinitionCommand, IEvent>
{
    public static DefinitionDecider Instance { get; } = new();

    public DefinitionState Initial => DefinitionState.Initial;

    public IReadOnlyList<IEvent> Decide(DefinitionState state, DefinitionCommand command)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (command is DefinitionCommand.Create c)
        {
            if (state.Exists) throw new ConflictException($"Workflow definition '{c.Id}' already exists.");
            return [new DefinitionCreated(c.Id, c.TenantId, c.Environment, 1, c.Name, c.Enabled, c.Definition, c.At)];
        }

        var existing = (DefinitionCommand.Existing)command;
        // Another tenant's or environment's definition answers exactly like a missing one.
        if (!state.BelongsTo(existing.TenantId, existing.Environment) || state.Deleted)
            throw new NotFoundException("Workflow definition", existing.Id);
        return command switch
        {
            DefinitionCommand.Update u when u.ExpectedVersions is { } expected && !expected.Contains(state.Version) =>
                throw new PreconditionFailedException(
                    $"If-Match does not match: the definition is at version {state.Version} (ETag \"{state.Version}\"); read it again, then retry with that ETag."),
            DefinitionCommand.Update u =>
                [new DefinitionUpdated(state.Id, state.TenantId, state.Environment, state.Version + 1, u.Name, u.Enabled ?? state.Enabled, u.Definition, u.At)],
            DefinitionCommand.Enable e => state.Enabled ? [] : [new DefinitionEnabled(state.Id, state.TenantId, state.Environment, state.Version, e.At)],
            DefinitionCommand.Disable d => !state.Enabled ? [] : [new DefinitionDisabled(state.Id, state.TenantId, state.Environment, state.Version, d.At)],
            DefinitionCommand.Delete d => [new DefinitionDeleted(state.Id, state.TenantId, state.Environment, state.Version, d.At)],
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown command."),
        };
    }

    public DefinitionState Evolve(DefinitionState state, IEvent @event) => @event switch
    {
        DefinitionCreated e => state with
        {
            Exists = true, Id = e.DefinitionId, TenantId = e.TenantId, Environment = e.Environment, Enabled = e.Enabled,
            CreatedAt = e.CreatedAt, UpdatedAt = e.CreatedAt, Versions = [new DefinitionVersion(e.Version, e.Name, e.Definition, e.CreatedAt, null)],
        },
        DefinitionUpdated e => state with
        {
            Enabled = e.Enabled, UpdatedAt = e.UpdatedAt, Versions = state.Versions.Add(new DefinitionVersion(e.Version, e.Name, e.Definition, e.UpdatedAt, null)),
        },
        DefinitionEnabled e => state with { Enabled = true, UpdatedAt = e.At },
        DefinitionDisabled e => state with { Enabled = false, UpdatedAt = e.At },
        DefinitionDeleted e => state with { Deleted = true, UpdatedAt = e.At },
        _ => state,
    };
}
