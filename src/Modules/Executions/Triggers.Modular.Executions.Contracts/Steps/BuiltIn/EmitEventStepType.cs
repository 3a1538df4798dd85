using System.Text.Json;
using Triggers.Modular.Executions.Contracts.Steps.Configs;

namespace Triggers.Modular.Executions.Contracts.Steps.BuiltIn;

/// <summary>The <c>emit_event</c> step: sends an event into the same tenant and environment.</summary>
public sealed class EmitEventStepType : IStepType
{
    public const string TypeName = "emit_event";

    private static readonly string[] Keys = ["name", "payload"];
    private const string Example = "e.g. { \"name\": \"customer.onboarded\", \"payload\": { \"id\": \"{{ trigger.customer_id }}\" } }";

    public string Name => TypeName;

    public string Description => "Emits an event into the same tenant and environment; payload strings may be Liquid templates.";

    public string ConfigSchema => """
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "title": "emit_event step config",
          "type": "object",
          "additionalProperties": false,
          "required": ["name"],
          "properties": {
            "name": { "type": "string", "maxLength": 200, "pattern": "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$" },
            "payload": { "description": "Any JSON; every string inside may contain Liquid templates." }
          }
        }
        """;

    public IReadOnlyList<StepConfigError> Validate(JsonElement config)
    {
        var errors = new ConfigErrors();
        if (!StepConfig.IsUsableObject(config, $"The emit_event step needs a config object with \"name\", {Example}", errors))
            return errors.ToList();

        StepConfig.RejectUnknownKeys(config, Keys, errors);
        if (!config.TryGetProperty("name", out var name))
            errors.Add("name", $"\"name\" is required, {Example}.");
        else if (name.ValueKind != JsonValueKind.String || !EventNames.IsValid(name.GetString()))
            errors.Add("name", $"{StepConfig.Show(name)} is not a valid event name: use {EventNames.SyntaxDescription}.");

        if (config.TryGetProperty("payload", out var payload))
            StepConfig.CheckTemplates(payload, "payload", errors);
        return errors.ToList();
    }
}
