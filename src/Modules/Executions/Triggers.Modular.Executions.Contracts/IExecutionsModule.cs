namespace Triggers.Modular.Executions.Contracts;

/// <summary>The Executions module's public facade; other modules talk to it only through this project.</summary>
public interface IExecutionsModule;
