namespace Triggers.Modular.Definitions.Validation;

/// <summary>One cycle per strongly connected component: <see cref="Path"/> starts at the component's lowest node and
/// each node depends on the next, the last on the first; <see cref="Component"/> is every node caught in it.</summary>
internal sealed record DependencyCycle(IReadOnlyList<int> Path, IReadOnlyList<int> Component);

/// <summary>
/// Finds dependency cycles with Tarjan's strongly-connected-components algorithm, written with an explicit stack so a
/// 10,000-step chain does not overflow the call stack. Linear in nodes + edges.
/// </summary>
internal static class DependencyCycles
{
    /// <param name="dependencies"><c>dependencies[i]</c> lists the nodes node <c>i</c> depends on (indices, no duplicates).</param>
    /// <returns>The cycles, ordered by their lowest node.</returns>
    public static IReadOnlyList<DependencyCycle> Find(IReadOnlyList<IReadOnlyList<int>> dependencies)
    {
        ArgumentNullException.ThrowIfNull(dependencies);
        var count = dependencies.Count;
        var index = new int[count];
        var low = new int[count];
        var onStack = new bool[count];
        Array.Fill(index, -1);
        var visited = new Stack<int>();
        var work = new Stack<(int Node, int NextEdge)>();
        var cycles = new List<DependencyCycle>();
        var counter = 0;

        for (var root = 0; root < count; root++)
        {
            if (index[root] != -1) continue;
            Visit(root);
            while (work.Count > 0)
            {
                var (node, edge) = work.Pop();
                var edges = dependencies[node];
                if (edge < edges.Count)
                {
                    work.Push((node, edge + 1));
                    var next = edges[edge];
                    if (index[next] == -1) Visit(next);
                    else if (onStack[next]) low[node] = Math.Min(low[node], index[next]);
                    continue;
                }

                if (low[node] == index[node]) CloseComponent(node);
                if (work.Count > 0)
                {
                    var parent = work.Peek().Node;
                    low[parent] = Math.Min(low[parent], low[node]);
                }
            }
        }

        cycles.Sort((a, b) => a.Path[0].CompareTo(b.Path[0]));
        return cycles;

        void Visit(int node)
        {
            index[node] = low[node] = counter++;
            visited.Push(node);
            onStack[node] = true;
            work.Push((node, 0));
        }

        void CloseComponent(int head)
        {
            var members = new List<int>();
            int member;
            do
            {
                member = visited.Pop();
                onStack[member] = false;
                members.Add(member);
            } while (member != head);

            if (members.Count == 1 && !dependencies[head].Contains(head)) return;
            members.Sort();
            cycles.Add(new DependencyCycle(ShortestCycleThrough(members[0], [.. members], dependencies), members));
        }
    }

    /// <summary>Breadth-first inside the component, so the named cycle is a shortest one through its first node.</summary>
    private static List<int> ShortestCycleThrough(int start, HashSet<int> component, IReadOnlyList<IReadOnlyList<int>> dependencies)
    {
        var cameFrom = new Dictionary<int, int> { [start] = -1 };
        var queue = new Queue<int>();
        queue.Enqueue(start);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            foreach (var next in dependencies[node])
            {
                if (next == start)
                {
                    var path = new List<int>();
                    for (var n = node; n != -1; n = cameFrom[n]) path.Add(n);
                    path.Reverse();
                    return path;
                }

                if (component.Contains(next) && cameFrom.TryAdd(next, node)) queue.Enqueue(next);
            }
        }

        throw new InvalidOperationException("A strongly connected component always contains a cycle through each member.");
    }
}
