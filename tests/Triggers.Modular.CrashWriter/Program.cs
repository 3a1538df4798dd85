using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Triggers.Modular.BuildingBlocks.EventStore;

// Usage: CrashWriter sqlite <path> | CrashWriter postgres <connection string>
// Prints "ACK <event id>" after each append returns, then keeps going until it is killed.
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

var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
{
    for (var i = 0; ; i++)
    {
        var id = Guid.NewGuid();
        var batch = i % 3 == 0
            ? new[] { new EventData(id, "crash.written", $$"""{"writer":{{w}},"i":{{i}}}""", EventMetadata.Empty) }
            : [new EventData(id, "crash.written", $$"""{"writer":{{w}},"i":{{i}}}""", EventMetadata.Empty),
               new EventData(Guid.NewGuid(), "crash.written", """{"second":true}""", EventMetadata.Empty)];
        await store.AppendToStreamAsync($"crash-{w}-{i % 5}", ExpectedRevision.Any, batch);
        lock (stdout)
        {
            foreach (var e in batch) stdout.WriteLine($"ACK {e.EventId}");
            stdout.Flush();
        }
    }
})).ToArray();
await Task.WhenAll(writers);
