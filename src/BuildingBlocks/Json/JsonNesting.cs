using System.Text.Json;

namespace Triggers.Modular.BuildingBlocks.Json;

/// <summary>Checks nesting without recursion, so a hostile 1,000-level document costs a short walk, not the stack.</summary>
public static class JsonNesting
{
    /// <summary>True when no container inside <paramref name="element"/> sits deeper than <paramref name="maxDepth"/>
    /// (the element itself, if an object or array, is level 1).</summary>
    public static bool IsWithin(JsonElement element, int maxDepth)
    {
        var pending = new Stack<(JsonElement Element, int Depth)>();
        pending.Push((element, 0));
        while (pending.Count > 0)
        {
            var (current, depth) = pending.Pop();
            switch (current.ValueKind)
            {
                case JsonValueKind.Object:
                    if (depth + 1 > maxDepth) return false;
                    foreach (var property in current.EnumerateObject()) pending.Push((property.Value, depth + 1));
                    break;
                case JsonValueKind.Array:
                    if (depth + 1 > maxDepth) return false;
                    foreach (var item in current.EnumerateArray()) pending.Push((item, depth + 1));
                    break;
            }
        }

        return true;
    }
}
