using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Triggers.Modular.BuildingBlocks.EventStore;

/// <summary>
/// The tamper-evidence hash chain (docs/adr/0016), one chain per stream, computed at append. An event's
/// <see cref="Digest"/> covers everything stored about it except its place (id, stream, type, schema version, data as
/// written, metadata, created time); its hash links the digest to the previous event of the stream and to its revision:
/// <c>hash(r) = SHA-256(hash(r − 1) ‖ digest ‖ revision as 8 bytes big-endian)</c>, with 32 zero bytes before revision 0
/// (and before the first event appended after a stream's unhashed, pre-chain events). The PostgreSQL adapter chains in SQL
/// (<c>sha256(prev || digest || int8send(revision))</c>) from digests computed here; SQLite chains here. Verification
/// recomputes both from the stored rows.
/// </summary>
public static class EventHash
{
    public const int Size = 32;

    private static readonly byte[] Tag = "triggers-modular/event/v1"u8.ToArray();

    /// <summary>32 zero bytes: the link before a stream's first hashed event.</summary>
    public static byte[] Genesis() => new byte[Size];

    /// <summary>The created time as stored and hashed: UTC, to the microsecond (PostgreSQL's precision, used by both stores).</summary>
    public static DateTimeOffset Normalize(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        return new DateTimeOffset(utc.Ticks - utc.Ticks % 10, TimeSpan.Zero);
    }

    public static byte[] Digest(Guid eventId, string stream, string type, int schemaVersion, string data, EventMetadata metadata, DateTimeOffset createdAt)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> number = stackalloc byte[16];
        hash.AppendData(Tag);
        eventId.TryWriteBytes(number, bigEndian: true, out _);
        hash.AppendData(number[..16]);
        Text(hash, stream);
        Text(hash, type);
        BinaryPrimitives.WriteInt32BigEndian(number, schemaVersion);
        hash.AppendData(number[..4]);
        Text(hash, data);
        Text(hash, metadata.TenantId);
        Text(hash, metadata.Environment);
        Text(hash, metadata.Actor);
        Text(hash, metadata.CorrelationId);
        Text(hash, metadata.CausationId);
        BinaryPrimitives.WriteInt64BigEndian(number, (Normalize(createdAt).UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10);
        hash.AppendData(number[..8]);
        return hash.GetHashAndReset();
    }

    public static byte[] Link(ReadOnlySpan<byte> previous, ReadOnlySpan<byte> digest, long revision)
    {
        Span<byte> buffer = stackalloc byte[Size * 2 + 8];
        previous.CopyTo(buffer);
        digest.CopyTo(buffer[Size..]);
        BinaryPrimitives.WriteInt64BigEndian(buffer[(Size * 2)..], revision);
        return SHA256.HashData(buffer);
    }

    /// <summary>A field as length (4 bytes big-endian; −1 for null) and UTF-8 bytes: no two field lists encode alike.</summary>
    private static void Text(IncrementalHash hash, string? value)
    {
        Span<byte> length = stackalloc byte[4];
        if (value is null)
        {
            BinaryPrimitives.WriteInt32BigEndian(length, -1);
            hash.AppendData(length);
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(value);
        BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
        hash.AppendData(length);
        hash.AppendData(bytes);
    }
}
