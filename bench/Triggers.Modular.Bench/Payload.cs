using System.Globalization;
using Triggers.Modular.BuildingBlocks.EventStore;

namespace Triggers.Modular.Bench;

/// <summary>
/// The events every phase writes: a realistic trigger event (~260 bytes of JSON) with full metadata, a fresh
/// event id each time. The raw-insert ceilings write exactly the same values.
/// </summary>
internal static class Payload
{
    public const string Type = "triggers.trigger_fired";

    /// <param name="timeOrderedId">UUIDv7 (time-ordered) event ids instead of random v4 ones: new ids then land at the
    /// right edge of the event-id index instead of on a random page.</param>
    public static EventData NewEvent(int writer, long sequence, bool timeOrderedId = false)
    {
        var id = timeOrderedId ? Guid.CreateVersion7() : Guid.NewGuid();
        var data = string.Create(CultureInfo.InvariantCulture,
            $$$"""{"triggerId":"{{{id:N}}}","definitionId":"def-{{{writer}}}","kind":"cron","schedule":"*/5 * * * *","scheduledFor":"2025-01-01T00:00:00Z","firedAt":"2025-01-01T00:00:00.123Z","attempt":1,"sequence":{{{sequence}}},"input":{"customer":"acme","priority":"normal","tags":["bench","load"]}}""");
        return new EventData(id, Type, data,
            new EventMetadata("tenant-bench", "prod", "bench-writer", id.ToString("N"), null));
    }

    public static EventData[] NewBatch(int writer, ref long sequence, int size, bool timeOrderedIds = false)
    {
        var batch = new EventData[size];
        for (var i = 0; i < size; i++) batch[i] = NewEvent(writer, sequence++, timeOrderedIds);
        return batch;
    }
}

/// <summary>
/// The "realistic path" for appends: each writer owns <see cref="StreamsPerWriter"/> streams and appends to them in
/// turn, creating each with <see cref="ExpectedRevision.NoStream"/> and then passing the exact revision it tracked
/// locally (<see cref="ExpectedRevision.Exactly"/>), as an aggregate repository would.
/// </summary>
internal sealed class StreamRotation(string category, string tag, int writer)
{
    public const int StreamsPerWriter = 10;

    private readonly long[] _revisions = Enumerable.Repeat(StreamRevision.None, StreamsPerWriter).ToArray();
    private int _next;

    public (string Stream, ExpectedRevision Expected, int Slot) Next()
    {
        var slot = _next;
        _next = (_next + 1) % StreamsPerWriter;
        var revision = _revisions[slot];
        var expected = revision == StreamRevision.None ? ExpectedRevision.NoStream : ExpectedRevision.Exactly(revision);
        return ($"{category}-{tag}.w{writer}.s{slot}", expected, slot);
    }

    public void Appended(int slot, AppendResult result) => _revisions[slot] = result.NextExpectedRevision;
}
