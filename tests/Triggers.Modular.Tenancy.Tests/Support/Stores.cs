using Triggers.Modular.BuildingBlocks.Tests.Support;

namespace Triggers.Modular.Tenancy.Tests.Support;

internal static class Stores
{
    /// <summary>Both adapters, for store-backed tests written once.</summary>
    public static TheoryData<StoreKind> Kinds => new(StoreKind.Sqlite, StoreKind.Postgres);
}
