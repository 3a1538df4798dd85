using System.Globalization;

namespace Triggers.Modular.EndToEnd.Tests.Support;

/// <summary>Reads samples out of a Prometheus text scrape (<c>/metrics</c>).</summary>
public static class PrometheusScrape
{
    /// <summary>The sum of the samples of <paramref name="metric"/> (names that start with it and, when given, end with
    /// <paramref name="suffix"/>; without one, histogram buckets are left out) whose line contains <paramref name="label"/>.</summary>
    public static double Sum(string scrape, string metric, string label, string? suffix = null) =>
        scrape.Split('\n')
            .Where(l => l.StartsWith(metric, StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal))
            .Where(l =>
            {
                var name = l[..l.IndexOfAny(['{', ' '])];
                return suffix is null ? !name.EndsWith("_bucket", StringComparison.Ordinal) : name.EndsWith(suffix, StringComparison.Ordinal);
            })
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    /// <summary>How much the sum grew from <paramref name="before"/> to <paramref name="after"/>.</summary>
    public static double Delta(string before, string after, string metric, string label, string? suffix = null) =>
        Sum(after, metric, label, suffix) - Sum(before, metric, label, suffix);
}
