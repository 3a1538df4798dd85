using System.Reflection;
using System.Xml.Linq;

namespace Triggers.Modular.Architecture.Tests.Support;

/// <summary>What the repository holds, discovered from disk so that a new module is checked without editing the tests.</summary>
public static class Repository
{
    public const string Prefix = "Triggers.Modular.";
    public const string BuildingBlocksProject = "Triggers.Modular.BuildingBlocks";

    public static string Root { get; } = FindRoot();

    /// <summary>Every directory under <c>src/Modules</c> is a module.</summary>
    public static IReadOnlyList<string> Modules { get; } = Directory.GetDirectories(Path.Combine(Root, "src", "Modules"))
        .Select(d => Path.GetFileName(d)).Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToArray();

    public static IEnumerable<string> ModuleProjects => Modules.SelectMany(m => new[] { ImplementationName(m), ContractsName(m) });

    public static TheoryData<string> ModuleData => new(Modules);

    /// <summary>Both projects of every module: what the type-level rules scan.</summary>
    public static TheoryData<string> ModuleProjectData => new(ModuleProjects);

    public static string ImplementationName(string module) => Prefix + module;

    public static string ContractsName(string module) => Prefix + module + ".Contracts";

    public static string ModuleProjectPath(string module, string project) =>
        Path.Combine(Root, "src", "Modules", module, project, project + ".csproj");

    public static string BuildingBlocksProjectPath => Path.Combine(Root, "src", "BuildingBlocks", BuildingBlocksProject + ".csproj");

    public static string HostProjectPath => Path.Combine(Root, "src", "Host", "Triggers.Modular.Host.csproj");

    public static string ArchitectureTestsProjectPath =>
        Path.Combine(Root, "tests", "Triggers.Modular.Architecture.Tests", "Triggers.Modular.Architecture.Tests.csproj");

    /// <summary>Project names (file name without extension) of the project's <c>ProjectReference</c> items.</summary>
    public static IReadOnlyList<string> ProjectReferences(string csproj) =>
        XDocument.Load(csproj).Descendants().Where(e => e.Name.LocalName == "ProjectReference")
            .Select(e => (string?)e.Attribute("Include") ?? "")
            .Select(include => Path.GetFileNameWithoutExtension(include.Replace('\\', '/')))
            .ToArray();

    public static Assembly Load(string assemblyName)
    {
        try
        {
            return Assembly.Load(assemblyName);
        }
        catch (FileNotFoundException e)
        {
            throw new InvalidOperationException(
                $"{assemblyName} is not in the architecture tests' output: add a ProjectReference to it in {ArchitectureTestsProjectPath}", e);
        }
    }

    public static IReadOnlyList<Type> TypesOf(string assemblyName)
    {
        try
        {
            return Load(assemblyName).GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            throw new InvalidOperationException($"Types of {assemblyName} could not be loaded: "
                + string.Join("; ", e.LoaderExceptions.Select(x => x?.Message)), e);
        }
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Triggers.Modular.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Triggers.Modular.sln not found above " + AppContext.BaseDirectory);
    }
}
