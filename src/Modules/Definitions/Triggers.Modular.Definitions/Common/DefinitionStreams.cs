using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.Definitions.Contracts;

namespace Triggers.Modular.Definitions.Common;

internal static class DefinitionStreams
{
    public static string For(string definitionId) => StreamName.For(DefinitionEventTypes.Category, definitionId);

    public static DateTimeOffset Now(this TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        return new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
    }
}
