using System.Xml.Linq;
using Triggers.Modular.Architecture.Tests.Support;
using static Triggers.Modular.Architecture.Tests.Support.Repository;

namespace Triggers.Modular.Architecture.Tests;

/// <summary>Rule 7: package versions live in <c>Directory.Packages.props</c> only.</summary>
public sealed class CentralPackageManagementTests
{
    private static readonly string[] VersionNames = ["Version", "VersionOverride"];

    [Fact]
    public void Given_the_repository_When_Directory_Packages_props_is_read_Then_central_package_management_is_on()
    {
        var props = XDocument.Load(Path.Combine(Root, "Directory.Packages.props"));

        Assert.Contains(props.Descendants(), e => e.Name.LocalName == "ManagePackageVersionsCentrally" && e.Value.Trim() == "true");
    }

    [Fact]
    public void Given_every_project_file_When_its_package_references_are_read_Then_none_declares_a_version()
    {
        var files = new[] { "src", "tests", "bench" }.Select(d => Path.Combine(Root, d)).Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.*", SearchOption.AllDirectories))
            .Where(f => f.EndsWith(".csproj", StringComparison.Ordinal) || f.EndsWith(".props", StringComparison.Ordinal)
                        || f.EndsWith(".targets", StringComparison.Ordinal))
            .Where(f => !IsBuildOutput(f))
            .ToList();
        Assert.NotEmpty(files);

        var offenders = files.SelectMany(f => XDocument.Load(f).Descendants()
            .Where(e => e.Name.LocalName == "PackageReference" && DeclaresVersion(e))
            .Select(e => $"{Path.GetRelativePath(Root, f)}: {(string?)e.Attribute("Include") ?? (string?)e.Attribute("Update")}"));

        Expect.None(offenders, "Package references that declare a version (move it to Directory.Packages.props)");
    }

    private static bool DeclaresVersion(XElement reference) =>
        reference.Attributes().Any(a => VersionNames.Contains(a.Name.LocalName))
        || reference.Elements().Any(e => VersionNames.Contains(e.Name.LocalName));

    private static bool IsBuildOutput(string path) =>
        path.Split(Path.DirectorySeparatorChar).Any(segment => segment is "bin" or "obj");
}
