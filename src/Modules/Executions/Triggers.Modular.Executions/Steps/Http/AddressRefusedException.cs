using System.Net;

namespace Triggers.Modular.Executions.Steps.Http;

/// <summary>Thrown by the guarded connect when a URL host resolves to an address the <see cref="AddressPolicy"/> refuses.</summary>
internal sealed class AddressRefusedException : Exception
{
    public AddressRefusedException(string host, IPAddress address, string reason)
        : base($"refused to connect to {address} ({reason}) for host '{host}'; "
            + $"an operator can allow it with {HttpStepOptions.SectionName}:{nameof(HttpStepOptions.AllowedNetworks)}")
    {
        Host = host;
        Address = address;
        Reason = reason;
    }

    public string Host { get; }

    public IPAddress Address { get; }

    public string Reason { get; }
}
