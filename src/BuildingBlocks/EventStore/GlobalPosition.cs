using System.Globalization;

namespace Triggers.Modular.BuildingBlocks.EventStore;

/// <summary>
/// A position in <c>$all</c>. Ordered by <see cref="Commit"/> then <see cref="Prepare"/>.
/// PostgreSQL: (writing transaction id, sequence); SQLite: (row id, row id). See docs/adr/0003.
/// </summary>
public readonly record struct GlobalPosition(long Commit, long Prepare) : IComparable<GlobalPosition>
{
    /// <summary>Before the first event: reading "after Start" reads everything.</summary>
    public static GlobalPosition Start { get; } = new(0, 0);

    public int CompareTo(GlobalPosition other)
    {
        var c = Commit.CompareTo(other.Commit);
        return c != 0 ? c : Prepare.CompareTo(other.Prepare);
    }

    public static bool operator <(GlobalPosition a, GlobalPosition b) => a.CompareTo(b) < 0;
    public static bool operator >(GlobalPosition a, GlobalPosition b) => a.CompareTo(b) > 0;
    public static bool operator <=(GlobalPosition a, GlobalPosition b) => a.CompareTo(b) <= 0;
    public static bool operator >=(GlobalPosition a, GlobalPosition b) => a.CompareTo(b) >= 0;

    /// <summary>Opaque, URL-safe token: <c>{commit}_{prepare}</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Commit}_{Prepare}");

    public static bool TryParse(string? text, out GlobalPosition position)
    {
        position = Start;
        if (string.IsNullOrEmpty(text)) return false;
        var parts = text.Split('_');
        if (parts.Length != 2
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var commit)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var prepare))
            return false;
        position = new GlobalPosition(commit, prepare);
        return true;
    }
}
