namespace Triggers.Modular.Executions.Contracts.Steps.BuiltIn;

internal static class HttpStepSchema
{
    public const string Json = """
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "title": "http step config",
          "type": "object",
          "additionalProperties": false,
          "required": ["url"],
          "properties": {
            "method": { "enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"], "default": "GET" },
            "url": {
              "type": "string", "minLength": 1, "maxLength": 8192,
              "description": "Absolute http or https URL; may contain Liquid templates such as {{ trigger.customer_id }}."
            },
            "headers": {
              "type": "object",
              "propertyNames": { "pattern": "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$" },
              "additionalProperties": { "type": "string", "description": "May contain Liquid templates." }
            },
            "body": { "description": "Any JSON; every string inside may contain Liquid templates." },
            "timeout_seconds": { "type": "integer", "minimum": 1, "maximum": 300 },
            "expected_status": {
              "type": "array", "minItems": 1,
              "items": { "type": "integer", "minimum": 100, "maximum": 599 }
            }
          }
        }
        """;
}
