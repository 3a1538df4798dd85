using System.Globalization;

namespace Triggers.Modular.Bench;

/// <summary>Memory of a process from <c>/proc/{pid}/status</c> (Linux): resident now and its high-water mark, in KiB.</summary>
internal readonly record struct ProcMemory(long RssKiB, long HwmKiB)
{
    public double RssMiB => RssKiB / 1024.0;

    public double HwmMiB => HwmKiB / 1024.0;

    /// <summary>Null when /proc is not readable (not Linux, or the process ended).</summary>
    public static ProcMemory? Read(int pid)
    {
        try
        {
            long rss = -1, hwm = -1;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = KiB(line);
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = KiB(line);
            }

            return rss < 0 || hwm < 0 ? null : new ProcMemory(rss, hwm);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>"VmRSS:	  123456 kB" → 123456.</summary>
    private static long KiB(string line)
    {
        var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(parts[1], CultureInfo.InvariantCulture);
    }
}
