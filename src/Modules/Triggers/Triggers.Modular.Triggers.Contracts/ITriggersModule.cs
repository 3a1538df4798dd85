namespace Triggers.Modular.Triggers.Contracts;

/// <summary>The Triggers module's public facade; other modules talk to it only through this project.</summary>
public interface ITriggersModule;
