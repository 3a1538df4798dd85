namespace Triggers.Modular.Architecture.Tests.Support;

internal static class Expect
{
    /// <summary>Fails with <paramref name="rule"/> and one offender per line, so the message names what to fix.</summary>
    public static void None(IEnumerable<string> offenders, string rule)
    {
        var list = offenders.ToList();
        if (list.Count > 0) Assert.Fail($"{rule}:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", list)}");
    }
}
