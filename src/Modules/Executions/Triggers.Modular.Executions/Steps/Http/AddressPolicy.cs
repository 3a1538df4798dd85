using System.Net;
using System.Net.Sockets;

namespace Triggers.Modular.Executions.Steps.Http;

/// <summary>
/// Which addresses the <c>http</c> step may connect to. Everything that is not a public unicast address is refused —
/// loopback, unspecified, private, link-local, cloud metadata, CGNAT, multicast, broadcast, reserved and benchmarking
/// ranges — and IPv6 forms that carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are judged by that IPv4
/// address. An operator opens exceptions with CIDR ranges or exact host names (<see cref="HttpStepOptions.AllowedNetworks"/>).
/// </summary>
internal sealed class AddressPolicy
{
    private static readonly (IPNetwork Network, string Reason)[] V4Ranges =
    [
        // Cloud metadata services first: they sit inside ranges below and deserve their own reason.
        (Net("169.254.169.254/32"), "metadata"), // AWS, GCP, Azure, OpenStack, …
        (Net("169.254.170.2/32"), "metadata"),   // AWS ECS task metadata
        (Net("100.100.100.200/32"), "metadata"), // Alibaba Cloud
        (Net("0.0.0.0/8"), "unspecified"),
        (Net("127.0.0.0/8"), "loopback"),
        (Net("10.0.0.0/8"), "private"),
        (Net("172.16.0.0/12"), "private"),
        (Net("192.168.0.0/16"), "private"),
        (Net("169.254.0.0/16"), "link-local"),
        (Net("100.64.0.0/10"), "cgnat"),
        (Net("192.0.0.0/24"), "reserved"),      // IETF protocol assignments
        (Net("192.0.2.0/24"), "reserved"),      // documentation (TEST-NET-1)
        (Net("198.51.100.0/24"), "reserved"),   // documentation (TEST-NET-2)
        (Net("203.0.113.0/24"), "reserved"),    // documentation (TEST-NET-3)
        (Net("198.18.0.0/15"), "benchmarking"),
        (Net("255.255.255.255/32"), "broadcast"),
        (Net("224.0.0.0/4"), "multicast"),
        (Net("240.0.0.0/4"), "reserved"),
    ];

    private static readonly (IPNetwork Network, string Reason)[] V6Ranges =
    [
        (Net("::/128"), "unspecified"),
        (Net("::1/128"), "loopback"),
        (Net("fd00:ec2::254/128"), "metadata"), // AWS IPv6 instance metadata
        (Net("fc00::/7"), "private"),           // unique local
        (Net("fec0::/10"), "private"),          // deprecated site-local
        (Net("fe80::/10"), "link-local"),
        (Net("ff00::/8"), "multicast"),
        (Net("64:ff9b:1::/48"), "nat64"),       // local-use NAT64: the IPv4 address behind it is site-specific
        (Net("2001::/32"), "teredo"),           // the client address inside is obfuscated; never let it through
        (Net("2001:db8::/32"), "reserved"),     // documentation
        (Net("100::/64"), "reserved"),          // discard-only
    ];

    private static readonly IPNetwork GlobalUnicast = Net("2000::/3");
    private static readonly IPNetwork Nat64 = Net("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = Net("2002::/16");
    private static readonly IPNetwork V4Compatible = Net("::/96");
    private static readonly IPNetwork V4Translated = Net("::ffff:0:0:0/96");

    private readonly IPNetwork[] _allowedNetworks;
    private readonly HashSet<string> _allowedHosts;

    /// <summary>Builds the policy from <see cref="HttpStepOptions.AllowedNetworks"/> entries.</summary>
    /// <exception cref="ArgumentException">An entry is neither a CIDR range, an address nor a host name.</exception>
    public AddressPolicy(IEnumerable<string> allowed)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        var networks = new List<IPNetwork>();
        _allowedHosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in allowed)
        {
            switch (ParseEntry(entry))
            {
                case AllowedEntry.Network network:
                    networks.Add(network.Value);
                    break;
                case AllowedEntry.Host host:
                    _allowedHosts.Add(host.Name);
                    break;
                case AllowedEntry.Invalid invalid:
                    throw new ArgumentException(invalid.Error, nameof(allowed));
            }
        }
        _allowedNetworks = [.. networks];
    }

    /// <summary>True when the operator allowed this URL host by name (it may then resolve to any address).</summary>
    public bool IsHostAllowed(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return _allowedHosts.Count > 0 && _allowedHosts.Contains(host);
    }

    /// <summary>Null when the step may connect to <paramref name="address"/>; otherwise why not (<c>loopback</c>,
    /// <c>private</c>, <c>link-local</c>, <c>metadata</c>, <c>cgnat</c>, …).</summary>
    public string? RefusalReason(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (IsInAllowedNetwork(address))
            return null;
        if (EmbeddedIPv4(address) is { } embedded)
            return RefusalReason(embedded);
        return Classify(address);
    }

    /// <summary>The range a non-public address belongs to, ignoring any allow-list; null for a public address. An IPv6
    /// address carrying an IPv4 address is judged by that address.</summary>
    public static string? Classify(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (EmbeddedIPv4(address) is { } embedded)
            return Classify(embedded);
        switch (address.AddressFamily)
        {
            case AddressFamily.InterNetwork:
                foreach (var (network, reason) in V4Ranges)
                    if (network.Contains(address))
                        return reason;
                return null;
            case AddressFamily.InterNetworkV6:
                foreach (var (network, reason) in V6Ranges)
                    if (network.Contains(address))
                        return reason;
                // Only 2000::/3 is allocated as global unicast; the rest of the IPv6 space is not reachable on the internet.
                return GlobalUnicast.Contains(address) ? null : "reserved";
            default:
                return "unsupported";
        }
    }

    /// <summary>Reads one <see cref="HttpStepOptions.AllowedNetworks"/> entry.</summary>
    public static AllowedEntry ParseEntry(string? entry)
    {
        var text = entry?.Trim() ?? "";
        if (text.Length == 0)
            return new AllowedEntry.Invalid("An AllowedNetworks entry is empty; use a CIDR range such as 10.20.0.0/16, an address or a host name.");
        if (text.Contains('/', StringComparison.Ordinal))
        {
            if (IPNetwork.TryParse(text, out var network))
            {
                // IPNetwork drops bits after the prefix (10.0.0.1/8 becomes 10.0.0.0/8); an entry like that is more likely a
                // slip for one address than a wish for the whole range, so it is refused with both readings.
                if (IPAddress.TryParse(StripBrackets(text[..text.IndexOf('/', StringComparison.Ordinal)]), out var written)
                    && written.Equals(network.BaseAddress))
                {
                    return new AllowedEntry.Network(network);
                }
                return new AllowedEntry.Invalid($"The AllowedNetworks entry '{text}' has bits set after its prefix length; write "
                    + $"'{network}' for the range or '{text[..text.IndexOf('/', StringComparison.Ordinal)]}' for the one address.");
            }
            return new AllowedEntry.Invalid($"The AllowedNetworks entry '{text}' is not a CIDR range such as 10.20.0.0/16 or fd00::/8.");
        }
        var bare = StripBrackets(text);
        if (IPAddress.TryParse(bare, out var address))
            return new AllowedEntry.Network(new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
        if (Uri.CheckHostName(text) == UriHostNameType.Dns)
            return new AllowedEntry.Host(text);
        return new AllowedEntry.Invalid($"The AllowedNetworks entry '{text}' is neither a CIDR range (10.20.0.0/16), an address nor a host name.");
    }

    internal static string StripBrackets(string host) =>
        host.Length > 1 && host[0] == '[' && host[^1] == ']' ? host[1..^1] : host;

    private bool IsInAllowedNetwork(IPAddress address)
    {
        foreach (var network in _allowedNetworks)
            if (network.Contains(address))
                return true;
        return false;
    }

    /// <summary>The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d),
    /// IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) or 6to4 (2002:aabb:ccdd::) address; else null.</summary>
    private static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return null;
        if (address.IsIPv4MappedToIPv6)
            return address.MapToIPv4();
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        if (V4Translated.Contains(address) || Nat64.Contains(address))
            return new IPAddress(bytes[12..]);
        if (SixToFour.Contains(address))
            return new IPAddress(bytes[2..6]);
        // ::/96 holds :: and ::1 too; those are judged as IPv6 addresses, not as 0.0.0.0 and 0.0.0.1.
        if (V4Compatible.Contains(address) && !address.Equals(IPAddress.IPv6Any) && !address.Equals(IPAddress.IPv6Loopback))
            return new IPAddress(bytes[12..]);
        return null;
    }

    private static IPNetwork Net(string cidr) => IPNetwork.Parse(cidr);
}

/// <summary>One parsed <see cref="HttpStepOptions.AllowedNetworks"/> entry.</summary>
internal abstract record AllowedEntry
{
    private AllowedEntry()
    {
    }

    public sealed record Network(IPNetwork Value) : AllowedEntry;

    public sealed record Host(string Name) : AllowedEntry;

    public sealed record Invalid(string Error) : AllowedEntry;
}
