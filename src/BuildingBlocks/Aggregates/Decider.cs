namespace Triggers.Modular.BuildingBlocks.Aggregates;

/// <summary>
/// An aggregate as a pure decider: <see cref="Decide"/> turns a command and the current state into events (or
/// throws a domain error); <see cref="Evolve"/> folds an event into the state. No I/O, so the same logic runs
/// in the embedded runtime and inside a Temporal workflow.
/// </summary>
public interface IDecider<TState, in TCommand, TEvent>
{
    TState Initial { get; }

    IReadOnlyList<TEvent> Decide(TState state, TCommand command);

    TState Evolve(TState state, TEvent @event);
}
