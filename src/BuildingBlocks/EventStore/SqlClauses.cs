using System.Text;
using Dapper;

namespace Triggers.Modular.BuildingBlocks.EventStore;

/// <summary>Optional query filters of the adapters (history queries).</summary>
internal static class SqlClauses
{
    /// <summary>Appends <paramref name="clause"/> with its parameter when <paramref name="value"/> is given.</summary>
    public static void AndIf(StringBuilder sql, DynamicParameters parameters, string clause, string name, object? value)
    {
        if (value is null) return;
        sql.Append(clause);
        parameters.Add(name, value);
    }
}
