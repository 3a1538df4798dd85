using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;

namespace Triggers.Modular.Executions.Steps.Http;

/// <summary>Resolves a host name to its addresses (the DNS lookup, replaceable in tests).</summary>
internal delegate Task<IPAddress[]> HostResolver(string host, CancellationToken cancellationToken);

/// <summary>
/// The <see cref="SocketsHttpHandler.ConnectCallback"/> of the <c>http</c> step. It resolves the host itself, checks every
/// address it got against the <see cref="AddressPolicy"/> — one refused address refuses the host — and then connects to
/// one of exactly those addresses, so a DNS answer that changes between the check and the connect (rebinding) cannot
/// slip a refused address in. Every new connection, redirects included, passes through here.
/// </summary>
internal sealed class GuardedConnector
{
    private readonly AddressPolicy _policy;
    private readonly HostResolver _resolve;

    public GuardedConnector(AddressPolicy policy, HostResolver? resolve = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _policy = policy;
        _resolve = resolve ?? ResolveWithDnsAsync;
    }

    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var host = context.DnsEndPoint.Host;
        var addresses = await ResolveAsync(host, cancellationToken).ConfigureAwait(false);
        if (!_policy.IsHostAllowed(host))
        {
            foreach (var address in addresses)
            {
                if (_policy.RefusalReason(address) is { } reason)
                    throw new AddressRefusedException(host, address, reason);
            }
        }
        return await ConnectToFirstAsync(addresses, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An address literal (in any form <see cref="IPAddress.TryParse(string, out IPAddress)"/> reads, such as
    /// <c>127.1</c> or <c>0x7f.1</c>) is its own answer; a name is looked up.</summary>
    internal async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        var bare = AddressPolicy.StripBrackets(host);
        if (IPAddress.TryParse(bare, out var literal))
            return [literal];
        var addresses = await _resolve(bare, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0)
            throw new SocketException((int)SocketError.HostNotFound);
        return addresses;
    }

    private static Task<IPAddress[]> ResolveWithDnsAsync(string host, CancellationToken cancellationToken) =>
        Dns.GetHostAddressesAsync(host, cancellationToken);

    private static async Task<Stream> ConnectToFirstAsync(IPAddress[] addresses, int port, CancellationToken cancellationToken)
    {
        ExceptionDispatchInfo? last = null;
        foreach (var address in addresses)
        {
            var target = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(target, port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ExceptionDispatchInfo.Capture(ex);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        last!.Throw();
        throw new UnreachableException();
    }
}
