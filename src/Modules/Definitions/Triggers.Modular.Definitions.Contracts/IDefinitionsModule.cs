using System.Text.Json;

namespace Triggers.Modular.Definitions.Contracts;

/// <summary>The Definitions module's public facade; other modules talk to it only through this project.</summary>
public interface IDefinitionsModule
{
    /// <summary>A definition of that tenant × environment, the latest version or <paramref name="version"/>; null when it does not
    /// exist there (or was deleted). Read from the definition's stream, so consistent with every acknowledged change.</summary>
    Task<DefinitionDto?> GetAsync(string tenantId, string environment, string definitionId, int? version = null,
        CancellationToken cancellationToken = default);

    /// <summary>Whether a definition of that tenant × environment exists (null when not, or deleted) and is enabled, kept in memory
    /// for <c>Definitions:StatusCacheSeconds</c> (1 s): changes made through this host are seen at once, another instance's
    /// within that time. For hot paths that check many requests against one definition (webhooks); use
    /// <see cref="GetAsync"/> where every acknowledged change must be seen.</summary>
    Task<DefinitionStatusDto?> GetStatusAsync(string tenantId, string environment, string definitionId, CancellationToken cancellationToken = default);

    /// <summary>One version of a definition of that tenant × environment even when the definition was deleted since (a
    /// running or finished execution stays pinned to it); null when it never existed there.</summary>
    Task<DefinitionDto?> GetVersionAsync(string tenantId, string environment, string definitionId, int version,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Checks one trigger document by the rules a trigger declared inside a definition follows (SPEC §4): a flat object
    /// <c>{ "type": "event", "event_name": …, "conditions": …, "schema": … }</c> (schedule and webhook fields likewise). Empty
    /// when valid; otherwise one error per field, its path relative to the trigger (<c>type</c>, <c>event_name</c>,
    /// <c>conditions[0].op</c>, <c>cron_expression</c>; the empty path for the document itself). Unknown fields and fields
    /// of another type are errors.
    /// </summary>
    IReadOnlyList<TriggerFieldError> ValidateTrigger(JsonElement trigger);
}
