namespace Triggers.Modular.BuildingBlocks.Aggregates;

/// <summary>Marks an event record written to the store. Architecture tests hold every one to be an immutable record.</summary>
#pragma warning disable CA1040 // a marker by design: the architecture tests find events through it
public interface IEvent;
#pragma warning restore CA1040
