using System.Net;
using Triggers.Modular.Executions.Steps.Http;

namespace Triggers.Modular.Executions.Tests.Steps.Http;

public sealed class AddressPolicyTests
{
    private static readonly AddressPolicy Strict = new([]);

    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.255.254", "loopback")]
    [InlineData("::1", "loopback")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("0.1.2.3", "unspecified")]
    [InlineData("::", "unspecified")]
    [InlineData("10.0.0.1", "private")]
    [InlineData("10.255.255.255", "private")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.255", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("fc00::1", "private")]
    [InlineData("fd12:3456:789a::1", "private")]
    [InlineData("169.254.0.1", "link-local")]
    [InlineData("169.254.255.254", "link-local")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("febf::1", "link-local")]
    [InlineData("169.254.169.254", "metadata")]
    [InlineData("169.254.170.2", "metadata")]
    [InlineData("100.100.100.200", "metadata")]
    [InlineData("fd00:ec2::254", "metadata")]
    [InlineData("100.64.0.1", "cgnat")]
    [InlineData("100.127.255.255", "cgnat")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("239.255.255.250", "multicast")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("255.255.255.255", "broadcast")]
    [InlineData("240.0.0.1", "reserved")]
    [InlineData("192.0.0.8", "reserved")]
    [InlineData("192.0.2.10", "reserved")]
    [InlineData("198.18.0.1", "benchmarking")]
    [InlineData("198.19.255.255", "benchmarking")]
    [InlineData("2001::1", "teredo")]
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo")]
    [InlineData("2001:db8::1", "reserved")]
    [InlineData("64:ff9b:1::a00:1", "nat64")]
    public void Given_a_non_public_address_When_judged_Then_it_is_refused_with_its_range(string address, string reason) =>
        Assert.Equal(reason, Strict.RefusalReason(IPAddress.Parse(address)));

    [Theory]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("::ffff:7f00:1", "loopback")]
    [InlineData("::ffff:10.1.2.3", "private")]
    [InlineData("::ffff:169.254.169.254", "metadata")]
    [InlineData("::ffff:0:127.0.0.1", "loopback")]
    [InlineData("::127.0.0.1", "loopback")]
    [InlineData("::a9fe:a9fe", "metadata")]
    [InlineData("64:ff9b::127.0.0.1", "loopback")]
    [InlineData("64:ff9b::a9fe:a9fe", "metadata")]
    [InlineData("64:ff9b::192.168.0.1", "private")]
    [InlineData("2002:7f00:1::", "loopback")]
    [InlineData("2002:a00:1::1", "private")]
    [InlineData("2002:a9fe:a9fe::", "metadata")]
    [InlineData("2002:6440:1::", "cgnat")]
    public void Given_an_IPv6_address_carrying_an_IPv4_one_When_judged_Then_the_IPv4_address_decides(string address, string reason) =>
        Assert.Equal(reason, Strict.RefusalReason(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("1.1.1.1")]
    [InlineData("93.184.216.34")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("169.255.0.1")]
    [InlineData("223.255.255.254")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("2a00:1450:4001:80b::200e")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("64:ff9b::808:808")]
    [InlineData("2002:808:808::1")]
    public void Given_a_public_address_When_judged_Then_it_is_allowed(string address) =>
        Assert.Null(Strict.RefusalReason(IPAddress.Parse(address)));

    [Theory]
    [InlineData("4000::1")]
    [InlineData("100::1")]
    [InlineData("::2:1:1")]
    public void Given_an_IPv6_address_outside_global_unicast_When_judged_Then_it_is_reserved(string address) =>
        Assert.Equal("reserved", Strict.RefusalReason(IPAddress.Parse(address)));

    [Fact]
    public void Given_an_allowed_single_address_When_judged_Then_it_alone_is_allowed()
    {
        var policy = new AddressPolicy(["127.0.0.1/32"]);

        Assert.Null(policy.RefusalReason(IPAddress.Parse("127.0.0.1")));
        Assert.Null(policy.RefusalReason(IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.Equal("loopback", policy.RefusalReason(IPAddress.Parse("127.0.0.2")));
        Assert.Equal("loopback", policy.RefusalReason(IPAddress.Parse("::1")));
    }

    [Fact]
    public void Given_allowed_ranges_When_judged_Then_addresses_inside_pass_and_others_keep_their_reason()
    {
        var policy = new AddressPolicy(["10.20.0.0/16", "fd00::/8", "192.168.1.5"]);

        Assert.Null(policy.RefusalReason(IPAddress.Parse("10.20.3.4")));
        Assert.Null(policy.RefusalReason(IPAddress.Parse("2002:a14:304::")));
        Assert.Null(policy.RefusalReason(IPAddress.Parse("fd00::2")));
        Assert.Null(policy.RefusalReason(IPAddress.Parse("192.168.1.5")));
        Assert.Equal("private", policy.RefusalReason(IPAddress.Parse("10.21.0.1")));
        Assert.Equal("private", policy.RefusalReason(IPAddress.Parse("192.168.1.6")));
        Assert.Equal("metadata", policy.RefusalReason(IPAddress.Parse("169.254.169.254")));
    }

    [Fact]
    public void Given_an_allowed_host_name_When_asked_Then_only_that_exact_name_matches_whatever_its_case()
    {
        var policy = new AddressPolicy(["localhost", "Billing.Internal"]);

        Assert.True(policy.IsHostAllowed("localhost"));
        Assert.True(policy.IsHostAllowed("LOCALHOST"));
        Assert.True(policy.IsHostAllowed("billing.internal"));
        Assert.False(policy.IsHostAllowed("localhost.attacker.example"));
        Assert.False(policy.IsHostAllowed("api.billing.internal"));
        Assert.False(policy.IsHostAllowed("127.0.0.1"));
        Assert.Equal("loopback", policy.RefusalReason(IPAddress.Loopback));
    }

    [Theory]
    [InlineData("")]
    [InlineData("10.0.0.1/8")]
    [InlineData("10.0.0.0/33")]
    [InlineData("not a host")]
    [InlineData("http://localhost")]
    public void Given_an_allow_list_entry_that_is_not_a_range_address_or_name_When_the_policy_is_built_Then_it_is_refused(string entry)
    {
        Assert.IsType<AllowedEntry.Invalid>(AddressPolicy.ParseEntry(entry));
        Assert.Throws<ArgumentException>(() => new AddressPolicy([entry]));
    }

    [Fact]
    public void Given_a_range_with_bits_after_its_prefix_When_parsed_Then_the_error_offers_both_readings()
    {
        var invalid = Assert.IsType<AllowedEntry.Invalid>(AddressPolicy.ParseEntry("192.168.1.5/24"));

        Assert.Contains("'192.168.1.0/24' for the range", invalid.Error, StringComparison.Ordinal);
        Assert.Contains("'192.168.1.5' for the one address", invalid.Error, StringComparison.Ordinal);
    }
}
