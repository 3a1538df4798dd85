namespace Triggers.Modular.Triggers.Events;

/// <summary>Limits of the events API and of the <c>emit_event</c> step (<c>Triggers:Events:*</c>).</summary>
internal sealed class EventOptions
{
    /// <summary>An event's payload, as compact JSON, may be at most this large (default 256 KiB).</summary>
    public int MaxPayloadBytes { get; set; } = 256 * 1024;

    /// <summary>Objects and arrays in a payload may nest at most this deep (default 32).</summary>
    public int MaxPayloadDepth { get; set; } = 32;

    /// <summary>A batch holds at most this many events (default 100).</summary>
    public int MaxBatchSize { get; set; } = 100;

    /// <summary>How long a causation chain of <c>emit_event</c> steps may grow (default 10): an event sent from outside has
    /// depth 0, an event emitted by an execution that such an event started has depth 1, and so on. An <c>emit_event</c> step
    /// whose event would be deeper fails (<c>emit_depth_exceeded</c>, not retried), so a workflow that emits the event it
    /// listens to stops instead of looping.</summary>
    public int MaxEmitDepth { get; set; } = 10;
}
