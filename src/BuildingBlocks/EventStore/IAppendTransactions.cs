namespace Triggers.Modular.BuildingBlocks.EventStore;

/// <summary>
/// An append whose transaction stays open until <see cref="CommitAsync"/>; disposing without committing rolls
/// it back. Used to prove that readers never skip an event committed late (contract tests), and by callers
/// that must hold the decision to commit.
/// </summary>
public interface IPendingAppend : IAsyncDisposable
{
    AppendResult Result { get; }

    Task<AppendResult> CommitAsync(CancellationToken cancellationToken = default);
}

public interface IAppendTransactions
{
    Task<IPendingAppend> BeginAppendAsync(string stream, ExpectedRevision expected, IReadOnlyList<EventData> events,
        CancellationToken cancellationToken = default);
}
