namespace Triggers.Modular.Audit.Contracts;

/// <summary>The Audit module's public facade; other modules talk to it only through this project.</summary>
public interface IAuditModule;
