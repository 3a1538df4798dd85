namespace Triggers.Modular.BuildingBlocks.EventStore.Subscriptions;

/// <summary>What a <c>$all</c> subscription yields.</summary>
public abstract record SubscriptionMessage
{
    /// <summary>An event that passed the filter. Checkpoint its <see cref="RecordedEvent.Position"/> once handled.</summary>
    public sealed record EventAppeared(RecordedEvent Event) : SubscriptionMessage;

    /// <summary>Everything up to <paramref name="Position"/> was examined and nothing more matched: safe to checkpoint.</summary>
    public sealed record CheckpointReached(GlobalPosition Position) : SubscriptionMessage;

    /// <summary>The subscription reached the visible head and is now live.</summary>
    public sealed record CaughtUp(GlobalPosition Position) : SubscriptionMessage;
}

/// <summary>Where a subscription starts: the beginning, or after a stored checkpoint (exclusive).</summary>
public readonly record struct FromAll(GlobalPosition After)
{
    public static FromAll Start => new(GlobalPosition.Start);
    public static FromAll AfterPosition(GlobalPosition position) => new(position);
}
