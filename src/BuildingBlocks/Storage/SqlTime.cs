using System.Globalization;

namespace Triggers.Modular.BuildingBlocks.Storage;

/// <summary>Times in read-model tables: <c>timestamptz</c> on PostgreSQL, ISO 8601 UTC text on SQLite.</summary>
public static class SqlTime
{
    /// <summary>A time as a query parameter for <paramref name="dialect"/>.</summary>
    public static object? Parameter(StoreDialect dialect, DateTimeOffset? value) => value switch
    {
        null => null,
        { } v when dialect == StoreDialect.Postgres => v.UtcDateTime,
        { } v => v.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
    };

    /// <summary>A time column as either provider returns it.</summary>
    public static DateTimeOffset Read(object value) => value switch
    {
        DateTime d => new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)),
        DateTimeOffset o => o,
        string s => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
        _ => throw new InvalidOperationException($"Unexpected time value of type {value.GetType().Name}."),
    };

    public static DateTimeOffset? ReadNullable(object? value) => value is null or DBNull ? null : Read(value);
}

public static class SqlBool
{
    /// <summary>A boolean column as either provider returns it (PostgreSQL <c>boolean</c>, SQLite <c>INTEGER</c> 0/1).</summary>
    public static bool Read(object value) => value is bool b ? b : Convert.ToInt64(value, CultureInfo.InvariantCulture) != 0;
}
