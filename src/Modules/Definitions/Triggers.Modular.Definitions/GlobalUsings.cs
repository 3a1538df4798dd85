// The generated mediator's class is called Mediator, like the package's namespace; an alias keeps call sites unambiguous.
global using DefinitionsMediator = Triggers.Modular.Definitions.Mediation.Mediator;
