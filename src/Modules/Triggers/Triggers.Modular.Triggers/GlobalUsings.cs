// The generated mediator's class is called Mediator, like the package's namespace; an alias keeps call sites unambiguous.
global using TriggersMediator = Triggers.Modular.Triggers.Mediation.Mediator;
