namespace Triggers.Modular.Tenancy.Tests.Support;

internal static class Poll
{
    /// <summary>Polls until <paramref name="condition"/> holds; fails after <paramref name="timeout"/> (30 s by default).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Condition not met in time.");
            await Task.Delay(20);
        }
    }
}
