using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation.Results;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Web;
using Triggers.Modular.Definitions.Contracts;

namespace Triggers.Modular.Triggers.Resources;

/// <summary>
/// The rules of a trigger body, shared by create and update: a name, a workflow of the caller's tenant × environment, and a
/// config valid for the type. The config rules are the Definitions module's (<see cref="IDefinitionsModule.ValidateTrigger"/>),
/// the same a trigger declared inside a definition follows: <c>{ "type", …config }</c> is checked as one flat trigger and its
/// error paths come back under <c>config.</c>.
/// </summary>
internal static class TriggerInputRules
{
    public const int NameMaxLength = 200;

    /// <summary>A config travels in every change event of its trigger and in the read model routing reads.</summary>
    public const int MaxConfigBytes = 256 * 1024;

    public static async Task<List<ValidationFailure>> CheckAsync(IDefinitionsModule definitions, TenantScope scope, string? workflowId, string? name,
        string? type, JsonElement? config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        var failures = new List<ValidationFailure>();
        if (string.IsNullOrWhiteSpace(name))
            failures.Add(Failure("name", $"name is required: 1 to {NameMaxLength} characters."));
        else if (name.Length > NameMaxLength)
            failures.Add(Failure("name", $"name is {name.Length} characters long; at most {NameMaxLength} are allowed."));

        CheckConfig(definitions, type, config, failures);

        if (string.IsNullOrEmpty(workflowId))
            failures.Add(Failure("workflow_id", "workflow_id is required: the id (wf_…) of the workflow definition this trigger starts."));
        else if (await definitions.GetAsync(scope.TenantId, scope.Environment, workflowId, cancellationToken: cancellationToken).ConfigureAwait(false) is null)
            failures.Add(Failure("workflow_id", $"no workflow definition '{Clip(workflowId)}' exists in this tenant and environment."));
        return failures;
    }

    /// <summary>Absent or null → <c>{}</c> (manual and api triggers have no config).</summary>
    public static JsonElement ConfigOrEmpty(JsonElement? config) =>
        config is { ValueKind: not (JsonValueKind.Undefined or JsonValueKind.Null) } c ? c : Empty;

    private static readonly JsonElement Empty = JsonDocument.Parse("{}").RootElement.Clone();

    private static void CheckConfig(IDefinitionsModule definitions, string? type, JsonElement? sent, List<ValidationFailure> failures)
    {
        var config = ConfigOrEmpty(sent);
        if (config.ValueKind != JsonValueKind.Object)
        {
            failures.Add(Failure("config", "config must be an object: the fields of the trigger's type, such as { \"event_name\": \"customer.created\" }."));
            return;
        }

        var size = JsonSerializer.SerializeToUtf8Bytes(config).Length;
        if (size > MaxConfigBytes)
        {
            failures.Add(Failure("config", $"config is {size} bytes as JSON; the limit is {MaxConfigBytes}."));
            return;
        }

        var flat = new JsonObject();
        if (type is not null) flat["type"] = type;
        foreach (var field in config.EnumerateObject())
        {
            if (field.Name == "type") failures.Add(Failure("config.type", "type belongs at the top level of the trigger, not inside config."));
            else flat[field.Name] = JsonSerializer.SerializeToNode(field.Value);
        }

        foreach (var error in definitions.ValidateTrigger(JsonSerializer.SerializeToElement(flat)))
            failures.Add(Failure(error.Path switch { "" => "config", "type" => "type", var p => $"config.{p}" }, error.Message));
    }

    public static ValidationFailure Failure(string path, string message) => new(path, message) { CustomState = FieldPath.Verbatim };

    private static string Clip(string s) => s.Length <= 100 ? s : s[..100] + "…";
}
