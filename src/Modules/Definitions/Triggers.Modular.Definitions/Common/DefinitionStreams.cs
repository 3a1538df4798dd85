using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.Definitions.Contracts;

namespace Triggers.Modular.Definitions.Common;

internal static class DefinitionStreams
{
    public static string For(string definitionId) => StreamName.For(DefinitionEventTypes.Category, definitionId);

}
