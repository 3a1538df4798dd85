using System.Text;
using System.Text.Json;

namespace Triggers.Modular.BuildingBlocks.EventStore;

/// <summary>Input checks shared by every adapter, run before any I/O so that bad input writes nothing.</summary>
internal static class AppendValidation
{
    public static void Validate(string stream, IReadOnlyList<EventData> events, EventStoreOptions options)
    {
        StreamName.Validate(stream);
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
            throw new InvalidAppendException($"Append to '{stream}' has no events; an append needs at least one.", "events");
        if (events.Count > options.MaxEventsPerAppend)
            throw new InvalidAppendException(
                $"Append to '{stream}' has {events.Count} events; the limit is {options.MaxEventsPerAppend}.", "events");

        var seen = new HashSet<Guid>();
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i] ?? throw new InvalidAppendException($"events[{i}] is null.", $"events[{i}]");
            if (e.EventId == Guid.Empty)
                throw new InvalidAppendException($"events[{i}].event_id is empty.", $"events[{i}].event_id");
            if (!seen.Add(e.EventId))
                throw new InvalidAppendException($"events[{i}].event_id {e.EventId} appears twice in one append.", $"events[{i}].event_id");
            if (string.IsNullOrWhiteSpace(e.Type) || e.Type.Length > 200)
                throw new InvalidAppendException($"events[{i}].type must be 1–200 characters.", $"events[{i}].type");
            RequireUnicode(e.Type, $"events[{i}].type");
            if (e.SchemaVersion < 1)
                throw new InvalidAppendException($"events[{i}].schema_version must be 1 or more.", $"events[{i}].schema_version");
            ArgumentNullException.ThrowIfNull(e.Metadata);

            RequireUnicode(e.Data, $"events[{i}].data");
            RequireUnicode(e.Metadata.TenantId, $"events[{i}].metadata.tenant_id");
            RequireUnicode(e.Metadata.Environment, $"events[{i}].metadata.environment");
            RequireUnicode(e.Metadata.Actor, $"events[{i}].metadata.actor");
            RequireUnicode(e.Metadata.CorrelationId, $"events[{i}].metadata.correlation_id");
            RequireUnicode(e.Metadata.CausationId, $"events[{i}].metadata.causation_id");

            var size = Encoding.UTF8.GetByteCount(e.Data ?? string.Empty) + MetadataSize(e.Metadata);
            if (size > options.MaxEventSizeBytes)
                throw new InvalidAppendException(
                    $"events[{i}] is {size} bytes; the limit is {options.MaxEventSizeBytes} bytes.", $"events[{i}].data");
            if (!IsJson(e.Data))
                throw new InvalidAppendException($"events[{i}].data is not valid JSON.", $"events[{i}].data");
        }
    }

    /// <summary>Strict UTF-8: a lone surrogate has no encoding, and would otherwise be replaced by U+FFFD (SQLite)
    /// or fail deep inside the driver (PostgreSQL).</summary>
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static void RequireUnicode(string? text, string field)
    {
        if (text is null) return;
        try
        {
            StrictUtf8.GetByteCount(text);
        }
        catch (EncoderFallbackException)
        {
            throw new InvalidAppendException($"{field} is not valid Unicode text (it contains a lone surrogate).", field);
        }
    }

    private static int MetadataSize(EventMetadata m) =>
        Encoding.UTF8.GetByteCount(string.Concat(m.TenantId, m.Environment, m.Actor, m.CorrelationId, m.CausationId));

    private static bool IsJson(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return false;
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text), new JsonReaderOptions { MaxDepth = 256 });
            while (reader.Read())
            {
            }
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

/// <summary>
/// EventStoreDB's idempotence rule, applied when some of an append's event ids are already stored:
/// all of them, in order, at consecutive revisions of this stream, where the expectation would have put them
/// → a replay (nothing written, original result); any other overlap → a concurrency error.
/// </summary>
internal static class IdempotenceRule
{
    public sealed record StoredId(Guid EventId, string StreamName, long Revision, GlobalPosition Position);

    public static AppendResult Evaluate(string stream, ExpectedRevision expected, IReadOnlyList<EventData> events,
        IReadOnlyList<StoredId> stored, long currentRevision)
    {
        var other = stored.FirstOrDefault(s => s.StreamName != stream);
        if (other is not null)
            throw new DuplicateEventIdException(other.EventId, stream, other.StreamName);

        var byId = stored.ToDictionary(s => s.EventId);
        if (byId.Count == events.Count && byId.TryGetValue(events[0].EventId, out var first))
        {
            var consecutive = true;
            for (var i = 0; i < events.Count && consecutive; i++)
                consecutive = byId.TryGetValue(events[i].EventId, out var s) && s.Revision == first.Revision + i;
            if (consecutive && expected.IsSatisfiedBy(first.Revision - 1))
            {
                var last = byId[events[^1].EventId];
                return new AppendResult(last.Revision, last.Position, WasIdempotentReplay: true);
            }
        }

        throw new WrongExpectedRevisionException(stream, expected, currentRevision,
            $"{stored.Count} of {events.Count} event ids are already stored at other revisions; a retry must repeat the whole original append");
    }
}
