using System.Security.Cryptography;
using System.Text;

namespace Triggers.Modular.BuildingBlocks.Aggregates;

/// <summary>
/// Name-based UUIDs (RFC 9562 version 5): the same inputs always give the same id, so a retried command that derives
/// its event ids from its idempotency key appends the same ids, which the store recognises as a replay.
/// </summary>
public static class DeterministicId
{
    private static readonly Guid Namespace = new("6f1c2a3e-5d4b-4e8f-9a7b-0c1d2e3f4a5b");

    public static Guid Create(string name, int index = 0)
    {
        ArgumentNullException.ThrowIfNull(name);
        var nameBytes = Encoding.UTF8.GetBytes($"{name}#{index}");
        var input = new byte[16 + nameBytes.Length];
        Namespace.TryWriteBytes(input, bigEndian: true, out _);
        nameBytes.CopyTo(input, 16);
#pragma warning disable CA5350 // SHA-1 is what RFC 9562 prescribes for version-5 UUIDs; this is naming, not security.
        var hash = SHA1.HashData(input);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }
}
