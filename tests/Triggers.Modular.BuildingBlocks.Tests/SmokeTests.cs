using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Tests.Support;

namespace Triggers.Modular.BuildingBlocks.Tests;

public class SmokeTests
{
    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Append_then_read_back(StoreKind kind)
    {
        await using var h = await StoreHarness.CreateAsync(kind);
        var r = await h.Store.AppendToStreamAsync("order-1", ExpectedRevision.NoStream,
            [new EventData(Guid.NewGuid(), "order_placed", """{"a":1}""", new EventMetadata("t1", "dev"))]);
        Assert.Equal(0, r.NextExpectedRevision);
        var events = await h.Store.ReadStreamAsync("order-1", ReadDirection.Forward, 0, 10);
        Assert.Single(events);
        var all = await h.Store.ReadAllForwardAsync(GlobalPosition.Start, 10);
        Assert.Single(all.Events);
        Assert.Equal(r.Position, all.Events[0].Position);
    }
}
