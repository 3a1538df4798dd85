using System.Text.Json;

namespace Triggers.Modular.Definitions.Validation;

/// <summary>JSON helpers of definition validation (nesting: <see cref="BuildingBlocks.Json.JsonNesting"/>).</summary>
internal static class JsonDepth
{
    /// <summary>True when no container inside <paramref name="element"/> sits deeper than <paramref name="maxDepth"/>.</summary>
    public static bool IsWithin(JsonElement element, int maxDepth) => BuildingBlocks.Json.JsonNesting.IsWithin(element, maxDepth);

    public static bool IsPresent(this JsonElement? element) =>
        element is { ValueKind: not JsonValueKind.Undefined and not JsonValueKind.Null };

    public static string TooDeep(string what) =>
        $"{what} nests deeper than {DefinitionLimits.MaxJsonDepth} levels of objects and arrays; flatten it.";
}
