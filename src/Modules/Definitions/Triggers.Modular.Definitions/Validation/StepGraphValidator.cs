using Triggers.Modular.Definitions.Model;

namespace Triggers.Modular.Definitions.Validation;

/// <summary>The dependency graph: <c>depends_on</c> names existing steps once each, orders agree with dependencies when
/// every step has one, and there are no cycles (each named on the <c>depends_on</c> entry of its first step).</summary>
internal static class StepGraphValidator
{
    public static void Validate(IReadOnlyList<StepDocument?> steps, Dictionary<string, int> firstIndexById, ValidationErrors errors)
    {
        var allOrdered = steps.All(s => s?.Order is not null);
        var dependencies = new List<int>[steps.Count];
        // Where each edge was written, so a cycle is reported on the depends_on entry that closes it.
        var positions = new Dictionary<int, int>[steps.Count];
        for (var i = 0; i < steps.Count; i++)
        {
            dependencies[i] = [];
            positions[i] = [];
            var dependsOn = steps[i]?.DependsOn;
            if (dependsOn is null) continue;
            for (var j = 0; j < dependsOn.Count; j++)
            {
                var path = $"steps[{i}].depends_on[{j}]";
                var target = dependsOn[j];
                if (string.IsNullOrEmpty(target) || !firstIndexById.TryGetValue(target, out var t))
                {
                    errors.Add(path, string.IsNullOrEmpty(target)
                        ? "a depends_on entry must name a step id."
                        : $"depends_on names '{TriggerValidator.Clip(target)}', which is not a step id in this definition; known ids: {KnownIds(firstIndexById)}.");
                    continue;
                }

                if (!positions[i].TryAdd(t, j))
                {
                    errors.Add(path, $"'{target}' is listed twice in depends_on (also at depends_on[{positions[i][t]}]); remove the duplicate.");
                    continue;
                }

                dependencies[i].Add(t);
                if (allOrdered && t != i && steps[t]!.Order >= steps[i]!.Order)
                    errors.Add(path, $"step '{steps[i]!.Id}' (order {steps[i]!.Order}) depends on '{target}' (order {steps[t]!.Order}); a dependency must have a lower order. Raise this step's order or remove the dependency.");
                else if (!allOrdered && t != i && steps[t] is { DependsOn: null } waiting && EffectiveOrder(steps, t) > EffectiveOrder(steps, i))
                    // A step without depends_on waits for every step with a lower order (its position when it has none).
                    errors.Add(path, $"'{target}' declares no depends_on, so it waits for every step placed before it, '{steps[i]!.Id}' included: this dependency can never be met. Give '{waiting.Id}' a depends_on, or move it before '{steps[i]!.Id}'.");
            }
        }

        foreach (var cycle in DependencyCycles.Find(dependencies))
        {
            var first = cycle.Path[0];
            var next = cycle.Path.Count > 1 ? cycle.Path[1] : first;
            errors.Add($"steps[{first}].depends_on[{positions[first][next]}]", CycleMessage(cycle, steps));
        }
    }

    private static int EffectiveOrder(IReadOnlyList<StepDocument?> steps, int index) => steps[index]?.Order ?? index + 1;

    private static string CycleMessage(DependencyCycle cycle, IReadOnlyList<StepDocument?> steps)
    {
        var names = cycle.Path.Take(DefinitionLimits.MaxCycleStepsNamed).Select(i => steps[i]!.Id!).ToList();
        if (cycle.Path.Count > DefinitionLimits.MaxCycleStepsNamed) names.Add($"… ({cycle.Path.Count - DefinitionLimits.MaxCycleStepsNamed} more)");
        names.Add(steps[cycle.Path[0]]!.Id!);
        var message = $"dependency cycle: {string.Join(" → ", names)}; "
                      + (cycle.Path.Count == 1 ? "a step cannot depend on itself, remove it from its own depends_on." : "remove one of these dependencies.");
        var others = cycle.Component.Except(cycle.Path).Take(DefinitionLimits.MaxCycleStepsNamed).Select(i => $"'{steps[i]!.Id}'").ToList();
        return others.Count == 0 ? message : $"{message} Steps {string.Join(", ", others)} are caught in cycles with these too.";
    }

    private static string KnownIds(Dictionary<string, int> ids) =>
        ids.Count <= 20 ? string.Join(", ", ids.Keys) : string.Join(", ", ids.Keys.Take(20)) + $", … ({ids.Count - 20} more)";
}
