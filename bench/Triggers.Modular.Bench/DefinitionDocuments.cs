using System.Text;

namespace Triggers.Modular.Bench;

/// <summary>
/// Workflow definitions the http phase sends: the SPEC-like two-step onboarding document (as in the end-to-end tests'
/// <c>OnboardingJson</c> / <c>OnboardingYaml</c>), a 200-step dependency chain (the validation limit) and a 3-step cycle
/// that validation refuses.
/// </summary>
internal static class DefinitionDocuments
{
    public const string OnboardingJson = """
        {
          "name": "Customer Onboarding - Standard",
          "description": "Welcome new customers",
          "trigger": { "type": "event", "event_name": "customer.created",
                       "conditions": [ { "path": "payload.plan", "op": "eq", "value": "pro" } ],
                       "schema": { "type": "object", "required": ["customer_id"] } },
          "steps": [
            { "id": "assign_plan", "order": 1, "type": "http", "name": "Assign plan",
              "config": { "method": "POST", "url": "https://billing.example.com/plans", "body": { "customer": "{{ trigger.customer_id }}" } },
              "retry_policy": { "max_attempts": 5 } },
            { "id": "welcome", "order": 2, "type": "http", "depends_on": ["assign_plan"],
              "condition": { "all": [ { "path": "steps.assign_plan.output.status", "op": "eq", "value": 201 } ] },
              "config": { "method": "POST", "url": "https://mail.example.com/send" } }
          ],
          "enabled": true,
          "retry_policy": { "max_attempts": 3, "initial_interval_seconds": 1, "backoff_coefficient": 2.0, "max_interval_seconds": 60 },
          "timeout_seconds": 3600
        }
        """;

    public const string OnboardingYaml = """
        name: Customer Onboarding - Standard
        description: Welcome new customers
        trigger:
          type: event
          event_name: customer.created
          conditions:
            - { path: payload.plan, op: eq, value: pro }
          schema:
            type: object
            required: [customer_id]
        steps:
          - id: assign_plan
            order: 1
            type: http
            name: Assign plan
            config:
              method: POST
              url: https://billing.example.com/plans
              body:
                customer: "{{ trigger.customer_id }}"
            retry_policy:
              max_attempts: 5
          - id: welcome
            order: 2
            type: http
            depends_on: [assign_plan]
            condition:
              all:
                - { path: steps.assign_plan.output.status, op: eq, value: 201 }
            config:
              method: POST
              url: https://mail.example.com/send
        enabled: true
        retry_policy:
          max_attempts: 3
          initial_interval_seconds: 1
          backoff_coefficient: 2.0
          max_interval_seconds: 60
        timeout_seconds: 3600
        """;

    /// <summary>A refused document: a → c → b → a (validation answers 400 naming the cycle).</summary>
    public const string CycleJson = """
        { "name": "cycle", "trigger": { "type": "event", "event_name": "customer.created" },
          "steps": [
            { "id": "a", "type": "set", "depends_on": ["c"], "config": { "values": { "x": 1 } } },
            { "id": "b", "type": "set", "depends_on": ["a"], "config": { "values": { "x": 1 } } },
            { "id": "c", "type": "set", "depends_on": ["b"], "config": { "values": { "x": 1 } } } ] }
        """;

    public const int ChainSteps = 200;

    /// <summary><see cref="ChainSteps"/> <c>set</c> steps, each depending on the one before: the largest definition validation accepts.</summary>
    public static readonly string ChainJson = BuildChain(ChainSteps);

    private static string BuildChain(int steps)
    {
        var sb = new StringBuilder();
        sb.Append("""{ "name": "chain", "trigger": { "type": "event", "event_name": "customer.created" }, "steps": [""");
        for (var i = 0; i < steps; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append("""{ "id": "s""").Append(i).Append("\", \"type\": \"set\"");
            if (i > 0) sb.Append(""", "depends_on": ["s""").Append(i - 1).Append("\"]");
            sb.Append(""", "config": { "values": { "x": 1 } } }""");
        }

        sb.Append("] }");
        return sb.ToString();
    }
}
