namespace Triggers.Modular.Triggers.Events;

/// <summary>Limits of the events API (<c>Triggers:Events:*</c>).</summary>
internal sealed class EventOptions
{
    /// <summary>An event's payload, as compact JSON, may be at most this large (default 256 KiB).</summary>
    public int MaxPayloadBytes { get; set; } = 256 * 1024;

    /// <summary>Objects and arrays in a payload may nest at most this deep (default 32).</summary>
    public int MaxPayloadDepth { get; set; } = 32;

    /// <summary>A batch holds at most this many events (default 100).</summary>
    public int MaxBatchSize { get; set; } = 100;
}
