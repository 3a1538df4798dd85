namespace Triggers.Modular.Definitions.Contracts;

/// <summary>The Definitions module's public facade; other modules talk to it only through this project.</summary>
public interface IDefinitionsModule;
