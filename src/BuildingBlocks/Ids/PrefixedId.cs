using System.Security.Cryptography;

namespace Triggers.Modular.BuildingBlocks.Ids;

/// <summary>
/// Opaque ids with a type prefix and a time-sortable body: <c>wf_01JD…</c>. The body is a UUIDv7 in Crockford
/// base32 (26 characters), so ids sort by creation time as strings and carry 74 random bits.
/// </summary>
public static class PrefixedId
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    private const int BodyLength = 26;

    public static string New(string prefix, TimeProvider? clock = null)
    {
        var now = (clock ?? TimeProvider.System).GetUtcNow();
        return From(prefix, Guid.CreateVersion7(now));
    }

    public static string From(string prefix, Guid guid)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        Span<byte> bytes = stackalloc byte[16];
        guid.TryWriteBytes(bytes, bigEndian: true, out _);
        Span<char> body = stackalloc char[BodyLength];
        // 128 bits → 26 base32 digits (130 bits, the top two always zero), most significant first.
        var high = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes);
        var low = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        var value = new UInt128(high, low);
        for (var i = BodyLength - 1; i >= 0; i--)
        {
            body[i] = Alphabet[(int)(value & 31)];
            value >>= 5;
        }

        return string.Concat(prefix, "_", body);
    }

    /// <summary>True when <paramref name="id"/> is <c>{prefix}_</c> followed by a well-formed body.</summary>
    public static bool IsValid(string prefix, string? id)
    {
        if (id is null || id.Length != prefix.Length + 1 + BodyLength) return false;
        if (!id.StartsWith(prefix, StringComparison.Ordinal) || id[prefix.Length] != '_') return false;
        var body = id.AsSpan(prefix.Length + 1);
        if (body[0] > '7') return false;
        foreach (var c in body)
            if (!Alphabet.Contains(c, StringComparison.Ordinal)) return false;
        return true;
    }

    /// <summary>A random secret as lowercase base32 (for API key secrets): <paramref name="bytes"/> bytes of entropy.</summary>
    public static string RandomSecret(int bytes = 32)
    {
        var data = RandomNumberGenerator.GetBytes(bytes);
        var chars = new char[(bytes * 8 + 4) / 5];
        int buffer = 0, bits = 0, n = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                chars[n++] = char.ToLowerInvariant(Alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        if (bits > 0) chars[n++] = char.ToLowerInvariant(Alphabet[(buffer << (5 - bits)) & 31]);
        return new string(chars, 0, n);
    }
}
