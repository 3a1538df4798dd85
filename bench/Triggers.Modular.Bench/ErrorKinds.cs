using System.Collections.Concurrent;
using System.Globalization;

namespace Triggers.Modular.Bench;

/// <summary>Failed requests by kind and the first unexplained answer (every HTTP phase of the bench), described after
/// <paramref name="label"/>.</summary>
internal sealed class ErrorKinds(string label = "errors")
{
    private readonly ConcurrentDictionary<string, long> _kinds = new(StringComparer.Ordinal);
    private string? _first;

    public long Total => _kinds.Values.Sum();

    public void Add(string kind, string? detail)
    {
        _kinds.AddOrUpdate(kind.Trim(), 1, (_, n) => n + 1);
        if (detail is not null) Interlocked.CompareExchange(ref _first, detail.Length > 200 ? detail[..200] + "…" : detail, null);
    }

    public string Describe() => _kinds.IsEmpty ? ""
        : $"{label}: " + string.Join(", ", _kinds.OrderByDescending(k => k.Value)
              .Select(k => string.Create(CultureInfo.InvariantCulture, $"{k.Key} ×{k.Value:N0}")))
          + (_first is null ? "" : $"; first: {_first.ReplaceLineEndings(" ")}");
}
