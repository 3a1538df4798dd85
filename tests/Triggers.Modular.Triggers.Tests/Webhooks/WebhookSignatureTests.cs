using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Triggers.Modular.Triggers.Webhooks;

namespace Triggers.Modular.Triggers.Tests.Webhooks;

/// <summary>Webhook authentication (issue 7): the published known-answer vectors, raw-byte HMAC, the timestamp window,
/// several secrets (rotation), and malformed headers that must be refusals with a reason, never exceptions.</summary>
public sealed class WebhookSignatureTests
{
    // Standard Webhooks' published example (standardwebhooks.com, the reference libraries' tests).
    private const string StandardSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string StandardId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const long StandardTimestamp = 1614265330;
    private const string StandardBody = """{"test": 2432232314}""";
    private const string StandardSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    // GitHub's documented example (docs.github.com, "Validating webhook deliveries").
    private const string GitHubSecret = "It's a Secret to Everybody";
    private const string GitHubBody = "Hello, World!";
    private const string GitHubSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);
    private static readonly DateTimeOffset StandardNow = DateTimeOffset.FromUnixTimeSeconds(StandardTimestamp);

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private static AuthOutcome Standard(string body, string? id, string? timestamp, string? signature, string[]? secrets = null, DateTimeOffset? now = null) =>
        WebhookSignatures.VerifyStandard(Bytes(body), id, timestamp, signature, secrets ?? [StandardSecret], now ?? StandardNow, Tolerance);

    [Fact]
    public void Given_the_standard_webhooks_vector_When_verified_and_signed_Then_it_matches_the_published_signature()
    {
        var outcome = Standard(StandardBody, StandardId, "1614265330", StandardSignature);
        Assert.True(outcome.Ok, $"{outcome.Reason}: {outcome.Detail}");
        Assert.Equal(StandardSignature, WebhookSignatures.SignStandard(StandardSecret, StandardId, StandardTimestamp, Bytes(StandardBody)));
    }

    [Fact]
    public void Given_the_github_vector_When_verified_and_signed_Then_it_matches_the_published_signature()
    {
        var outcome = WebhookSignatures.VerifyHex(Bytes(GitHubBody), WebhookSignatures.GitHubSignature, GitHubSignature, [GitHubSecret]);
        Assert.True(outcome.Ok, $"{outcome.Reason}: {outcome.Detail}");
        Assert.Equal(GitHubSignature, WebhookSignatures.SignHex(GitHubSecret, Bytes(GitHubBody)));
        // Upper-case hex is the same signature.
        Assert.True(WebhookSignatures.VerifyHex(Bytes(GitHubBody), WebhookSignatures.PlainSignature, "sha256=" + GitHubSignature[7..].ToUpperInvariant(),
            [GitHubSecret]).Ok);
    }

    [Theory]
    [InlineData("""{"test":2432232314}""")]
    [InlineData("""{ "test": 2432232314 }""")]
    [InlineData("""{"test": 2432232314}""" + "\n")]
    [InlineData("""{"test": 2432232315}""")]
    public void Given_the_same_json_serialised_differently_When_verified_Then_the_standard_signature_fails(string body)
    {
        var outcome = Standard(body, StandardId, "1614265330", StandardSignature);
        Assert.False(outcome.Ok);
        Assert.Equal("bad_signature", outcome.Reason);
    }

    [Theory]
    [InlineData("Hello, World! ")]
    [InlineData("hello, World!")]
    public void Given_another_body_When_verified_with_the_github_signature_Then_it_fails(string body)
    {
        var outcome = WebhookSignatures.VerifyHex(Bytes(body), WebhookSignatures.GitHubSignature, GitHubSignature, [GitHubSecret]);
        Assert.False(outcome.Ok);
        Assert.Equal("bad_signature", outcome.Reason);
    }

    [Theory]
    [InlineData(-301, false)]
    [InlineData(301, false)]
    [InlineData(-300, true)]
    [InlineData(300, true)]
    [InlineData(0, true)]
    public void Given_a_timestamp_offset_from_now_When_verified_Then_only_five_minutes_either_way_pass(int offsetSeconds, bool ok)
    {
        var now = new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
        var timestamp = now.ToUnixTimeSeconds() + offsetSeconds;
        var signature = WebhookSignatures.SignStandard(StandardSecret, "msg_1", timestamp, Bytes("{}"));
        var outcome = Standard("{}", "msg_1", timestamp.ToString(CultureInfo.InvariantCulture), signature, now: now);
        Assert.Equal(ok, outcome.Ok);
        if (!ok)
        {
            Assert.Equal("timestamp_out_of_tolerance", outcome.Reason);
            Assert.Contains(offsetSeconds < 0 ? "old" : "ahead", outcome.Detail, StringComparison.Ordinal);
        }
    }

    public static TheoryData<string?, string?, string> MalformedStandardHeaders()
    {
        var valid = StandardSignature;
        return new()
        {
            { "1614265330", "", "missing_signature" },
            { "1614265330", null, "missing_signature" },
            { "", valid, "missing_signature" },
            { "1614265330", "v1", "malformed_signature" },
            { "1614265330", "v1g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "malformed_signature" },
            { "1614265330", "v1,not base64 at all!", "malformed_signature" },
            { "1614265330", "v1,%%%%", "malformed_signature" },
            { "1614265330", "v1,AAAA", "malformed_signature" }, // base64, but not 32 bytes
            { "1614265330", "v2," + valid[3..], "malformed_signature" }, // an unknown version only
            { "1614265330", ",", "malformed_signature" },
            { "1614265330", "   ", "malformed_signature" },
            { "1614265330", string.Join(' ', Enumerable.Repeat("v1,AAAA", 10_000)), "malformed_signature" },
            { "1614265330", string.Join(' ', Enumerable.Repeat("v1,AAAA", 33)), "malformed_signature" }, // short, but more entries than read
            { "1614265330", string.Join(' ', Enumerable.Repeat(valid, 10_000)), "malformed_signature" },
            { "abc", valid, "malformed_timestamp" },
            { "99999999999999999999", valid, "malformed_timestamp" },
            { "9223372036854775807", valid, "timestamp_out_of_tolerance" },
            { "-1614265330", valid, "malformed_timestamp" },
            { "+1614265330", valid, "malformed_timestamp" },
            { "1614265330.5", valid, "malformed_timestamp" },
            { " 1614265330", valid, "malformed_timestamp" },
            { "١٦١٤٢٦٥٣٣٠", valid, "malformed_timestamp" }, // non-ASCII digits
        };
    }

    [Theory]
    [MemberData(nameof(MalformedStandardHeaders))]
    public void Given_malformed_standard_headers_When_verified_Then_a_refusal_with_a_reason_and_no_exception(string? timestamp, string? signature, string reason)
    {
        var outcome = Standard(StandardBody, StandardId, timestamp, signature);
        Assert.False(outcome.Ok);
        Assert.Equal(reason, outcome.Reason);
        Assert.False(string.IsNullOrEmpty(outcome.Detail));
    }

    [Fact]
    public void Given_a_valid_signature_among_others_When_verified_Then_it_passes_and_an_empty_id_does_not()
    {
        var several = $"v1a,ignoredAsymmetric v1,{Convert.ToBase64String(new byte[32])} {StandardSignature}";
        Assert.True(Standard(StandardBody, StandardId, "1614265330", several).Ok);
        Assert.Equal("missing_signature", Standard(StandardBody, "", "1614265330", StandardSignature).Reason);
        Assert.Equal("bad_signature", Standard(StandardBody, StandardId + "x", "1614265330", StandardSignature).Reason);
    }

    [Fact]
    public void Given_two_live_secrets_When_either_signed_Then_both_verify_and_a_third_does_not()
    {
        var fresh = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var other = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        foreach (var signer in new[] { StandardSecret, fresh })
        {
            var signature = WebhookSignatures.SignStandard(signer, "msg_2", StandardTimestamp, Bytes("{}"));
            Assert.True(Standard("{}", "msg_2", "1614265330", signature, [fresh, StandardSecret]).Ok);
        }

        var stranger = WebhookSignatures.SignStandard(other, "msg_2", StandardTimestamp, Bytes("{}"));
        Assert.Equal("bad_signature", Standard("{}", "msg_2", "1614265330", stranger, [fresh, StandardSecret]).Reason);
        Assert.Equal("bad_signature", Standard("{}", "msg_2", "1614265330", stranger, []).Reason);
    }

    [Theory]
    [InlineData(null, "missing_signature")]
    [InlineData("", "missing_signature")]
    [InlineData("sha1=757107ea0eb2509fc211221cce984b8a37570b6d", "malformed_signature")]
    [InlineData("757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "malformed_signature")]
    [InlineData("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1", "malformed_signature")]
    [InlineData("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1z", "malformed_signature")]
    [InlineData("sha256=", "malformed_signature")]
    [InlineData("sha256=0000000000000000000000000000000000000000000000000000000000000000", "bad_signature")]
    public void Given_malformed_hex_signatures_When_verified_Then_a_refusal_with_a_reason(string? signature, string reason)
    {
        var outcome = WebhookSignatures.VerifyHex(Bytes(GitHubBody), WebhookSignatures.PlainSignature, signature, [GitHubSecret]);
        Assert.False(outcome.Ok);
        Assert.Equal(reason, outcome.Reason);
    }

    [Fact]
    public void Given_tokens_When_matched_Then_only_a_live_secret_matches()
    {
        Assert.True(WebhookSignatures.MatchesToken("whk_abc", ["whk_old", "whk_abc"]));
        Assert.False(WebhookSignatures.MatchesToken("whk_ab", ["whk_abc"]));
        Assert.False(WebhookSignatures.MatchesToken("whk_abcd", ["whk_abc"]));
        Assert.False(WebhookSignatures.MatchesToken("", ["whk_abc", ""]));
        Assert.False(WebhookSignatures.MatchesToken(null, ["whk_abc"]));
        Assert.False(WebhookSignatures.MatchesToken("whk_abc", []));
    }

    [Fact]
    public void Given_generated_secrets_Then_hmac_ones_are_standard_keys_of_32_bytes_and_tokens_are_distinct()
    {
        var hmac = WebhookSecrets.Generate("hmac");
        Assert.StartsWith("whsec_", hmac, StringComparison.Ordinal);
        Assert.Equal(32, WebhookSignatures.StandardKey(hmac)!.Length);
        var tokens = Enumerable.Range(0, 100).Select(_ => WebhookSecrets.Generate("api_key")).ToHashSet();
        Assert.Equal(100, tokens.Count);
        Assert.All(tokens, t => Assert.StartsWith("whk_", t, StringComparison.Ordinal));
    }
}
