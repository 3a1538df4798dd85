using System.Text.Json;
using Triggers.Modular.Executions.Contracts.Steps.Configs;

namespace Triggers.Modular.Executions.Contracts.Steps.BuiltIn;

/// <summary>The <c>set</c> step: computes named values, exposed as <c>steps.&lt;id&gt;.output.&lt;name&gt;</c>.</summary>
public sealed class SetStepType : IStepType
{
    public const string TypeName = "set";

    private static readonly string[] Keys = ["values"];
    private const string Example = "e.g. { \"values\": { \"email\": \"{{ trigger.email }}\" } }";

    public string Name => TypeName;

    public string Description => "Sets named values, available to later steps as steps.<id>.output.<name>; strings may be Liquid templates.";

    public string ConfigSchema => """
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "title": "set step config",
          "type": "object",
          "additionalProperties": false,
          "required": ["values"],
          "properties": {
            "values": {
              "type": "object", "minProperties": 1,
              "propertyNames": { "pattern": "^[A-Za-z_][A-Za-z0-9_]*$" },
              "description": "Output names to values; any JSON, every string inside may contain Liquid templates."
            }
          }
        }
        """;

    public IReadOnlyList<StepConfigError> Validate(JsonElement config)
    {
        var errors = new ConfigErrors();
        if (!StepConfig.IsUsableObject(config, $"The set step needs a config object with \"values\", {Example}", errors))
            return errors.ToList();

        StepConfig.RejectUnknownKeys(config, Keys, errors);
        if (!config.TryGetProperty("values", out var values))
        {
            errors.Add("values", $"\"values\" is required, {Example}.");
            return errors.ToList();
        }
        if (values.ValueKind != JsonValueKind.Object || !values.EnumerateObject().Any())
        {
            errors.Add("values", $"\"values\" must be an object with at least one entry, {Example}; got {Describe(values)}.");
            return errors.ToList();
        }
        foreach (var value in values.EnumerateObject())
        {
            var path = ConfigPath.Property("values", value.Name);
            if (!IsOutputName(value.Name))
                errors.Add(path, $"\"{value.Name}\" cannot be an output name: start with a letter or '_' and use only letters, digits and '_'.");
            StepConfig.CheckTemplates(value.Value, path, errors);
        }
        return errors.ToList();
    }

    private static string Describe(JsonElement values) =>
        values.ValueKind == JsonValueKind.Object ? "an empty object" : StepConfig.Show(values);

    private static bool IsOutputName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
