namespace Triggers.Modular.Temporal.Contracts;

/// <summary>The Temporal module's public facade; other modules talk to it only through this project.</summary>
public interface ITemporalModule;
