using System.Globalization;
using System.Reflection;

namespace Triggers.Modular.BuildingBlocks.Storage;

/// <summary>A forward-only schema change, identified by module and version (docs/adr/0004).</summary>
public sealed record Migration(string Module, int Version, string Name, string Sql);

/// <summary>Supplies a module's migrations for one dialect. Registered in DI; the runner applies all of them.</summary>
public interface IMigrationSource
{
    IEnumerable<Migration> GetMigrations(StoreDialect dialect);
}

/// <summary>Reads migrations embedded as <c>…/{Dialect}/Migrations/NNNN_name.sql</c> resources of an assembly.</summary>
public sealed class EmbeddedMigrationSource(string module, Assembly assembly, string resourcePrefix) : IMigrationSource
{
    public IEnumerable<Migration> GetMigrations(StoreDialect dialect)
    {
        var prefix = $"{resourcePrefix}.{dialect}.Migrations.";
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var file = resource[prefix.Length..^".sql".Length];
            var separator = file.IndexOf('_', StringComparison.Ordinal);
            var version = int.Parse(file[..separator], NumberStyles.None, CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            yield return new Migration(module, version, file[(separator + 1)..], reader.ReadToEnd());
        }
    }
}
