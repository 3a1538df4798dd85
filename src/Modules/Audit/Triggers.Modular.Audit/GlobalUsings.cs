// The generated mediator's class is called Mediator, like the package's namespace; an alias keeps call sites unambiguous.
global using AuditMediator = Triggers.Modular.Audit.Mediation.Mediator;
