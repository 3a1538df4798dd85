using System.Data.Common;
using Dapper;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Storage;

namespace Triggers.Modular.BuildingBlocks.Projections;

/// <summary>
/// A read model fed from <c>$all</c>. <see cref="ApplyAsync"/> writes with the given connection and transaction;
/// the runner advances the checkpoint in that same transaction, so an event is applied exactly once.
/// </summary>
public interface IProjection
{
    /// <summary>Stable name: the checkpoint's key. Renaming it rebuilds the read model from position 0.</summary>
    string Name { get; }

    /// <summary>Which events to receive; null for all.</summary>
    AllFilter? Filter { get; }

    Task ApplyAsync(RecordedEvent e, ProjectionContext context, CancellationToken cancellationToken);

    /// <summary>Applies a page of events, in order, in one transaction. Override to fold events into fewer writes (an
    /// execution that starts and finishes within the page becomes one row written once); the read model must end up exactly
    /// as if each event had been applied on its own.</summary>
    async Task ApplyBatchAsync(IReadOnlyList<RecordedEvent> events, ProjectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (var e in events)
            await ApplyAsync(e, context, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the read model's rows before a rebuild (same transaction as the checkpoint reset).</summary>
    Task ResetAsync(ProjectionContext context, CancellationToken cancellationToken);

    /// <summary>The tables this read model writes — all of them, and nothing else does —, named as the live runner writes
    /// them. A projection that names its tables can be rebuilt beside them while they serve reads
    /// (<see cref="ProjectionRebuilder"/>); it must then write and read through <see cref="ProjectionContext.Table"/>.
    /// None (the default): it can only be reset in place.</summary>
    IReadOnlyList<string> Tables(StoreDialect dialect) => [];
}

/// <summary>What a projection writes with: the page's connection and transaction, and the names its tables have for this
/// run — <see cref="TableNames"/> maps a live name to the shadow table of a rebuild; no entry, the live table.</summary>
public sealed record ProjectionContext(DbConnection Connection, DbTransaction Transaction, StoreDialect Dialect,
    IReadOnlyDictionary<string, string>? TableNames = null)
{
    /// <summary>The name to use for the live table <paramref name="live"/> in this run.</summary>
    public string Table(string live) => TableNames is not null && TableNames.TryGetValue(live, out var name) ? name : live;

    /// <summary>Runs one statement in the page's transaction.</summary>
    public Task<int> ExecuteAsync(string sql, object? args, CancellationToken cancellationToken) =>
        Connection.ExecuteAsync(new CommandDefinition(sql, args, Transaction, cancellationToken: cancellationToken));
}
