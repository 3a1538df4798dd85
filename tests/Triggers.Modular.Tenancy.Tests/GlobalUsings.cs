global using TenancyMediator = Triggers.Modular.Tenancy.Mediation.Mediator;
