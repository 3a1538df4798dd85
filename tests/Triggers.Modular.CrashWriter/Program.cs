using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Triggers.Modular.BuildingBlocks.EventStore;

namespace Triggers.Modular.CrashWriter;

/// <summary>
/// Usage: <c>CrashWriter sqlite &lt;path&gt;</c> | <c>CrashWriter postgres &lt;connection string&gt;</c>.
/// Prints "ACK &lt;event id&gt;" after each append returns, and keeps appending until it is killed.
/// </summary>
internal static class CrashWriterProgram
{
    public static async Task Main(string[] args)
    {
        var settings = new Dictionary<string, string?> { ["EventStore:Provider"] = args[0] };
        settings[args[0] == "sqlite" ? "EventStore:Sqlite:Path" : "EventStore:Postgres:ConnectionString"] = args[1];
        var services = new ServiceCollection()
            .AddLogging(l => l.SetMinimumLevel(LogLevel.Warning))
            .AddEventStore(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .BuildServiceProvider();
        await services.MigrateStoreAsync();
        var store = services.GetRequiredService<IEventStore>();
        var stdout = Console.Out;
        Console.WriteLine("READY");
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(() => WriteForeverAsync(store, stdout, w))));
    }

    private static async Task WriteForeverAsync(IEventStore store, TextWriter stdout, int writer)
    {
        for (var i = 0; ; i++)
        {
            var first = new EventData(Guid.NewGuid(), "crash.written", $$"""{"writer":{{writer}},"i":{{i}}}""", EventMetadata.Empty);
            EventData[] batch = i % 3 == 0
                ? [first]
                : [first, new EventData(Guid.NewGuid(), "crash.written", """{"second":true}""", EventMetadata.Empty)];
            await store.AppendToStreamAsync($"crash-{writer}-{i % 5}", ExpectedRevision.Any, batch);
            lock (stdout)
            {
                foreach (var e in batch) stdout.WriteLine($"ACK {e.EventId}");
                stdout.Flush();
            }
        }
    }
}
