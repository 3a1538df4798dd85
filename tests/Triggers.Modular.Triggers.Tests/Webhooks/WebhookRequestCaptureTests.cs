using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Triggers.Modular.Triggers.Webhooks;

namespace Triggers.Modular.Triggers.Tests.Webhooks;

/// <summary>What the request log and the execution's input keep of a request: secrets redacted (log) or left out (input),
/// bodies cut at the limit without splitting a character, binary bodies as base64.</summary>
public sealed class WebhookRequestCaptureTests
{
    private static HeaderDictionary Headers() => new()
    {
        ["Authorization"] = "Bearer whk_secret1",
        ["Cookie"] = "session=abc",
        ["webhook-signature"] = "v1,c2lnbmF0dXJl",
        ["X-Hub-Signature-256"] = "sha256=00",
        ["X-Signature"] = "sha256=11",
        ["X-Partner-Key"] = "whk_secret2",
        ["X-Auth-Token"] = "whk_secret3",
        ["Content-Type"] = "application/json",
        ["User-Agent"] = "GitHub-Hookshot/abc",
        ["X-GitHub-Event"] = "push",
        ["Content-Length"] = "12",
    };

    [Fact]
    public void Given_secret_headers_When_logged_Then_names_stay_values_are_redacted_and_others_are_kept()
    {
        var logged = WebhookRequestCapture.LogHeaders(Headers(), "X-Partner-Key");
        foreach (var name in new[] { "authorization", "cookie", "webhook-signature", "x-hub-signature-256", "x-signature", "x-partner-key", "x-auth-token" })
            Assert.Equal(WebhookRequestCapture.Redacted, logged.GetProperty(name).GetString());
        Assert.Equal("push", logged.GetProperty("x-github-event").GetString());
        Assert.Equal("GitHub-Hookshot/abc", logged.GetProperty("user-agent").GetString());
        Assert.DoesNotContain("whk_secret", logged.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Given_secret_headers_When_given_to_the_execution_Then_they_and_transport_headers_are_left_out()
    {
        var input = WebhookRequestCapture.InputHeaders(Headers(), "X-Partner-Key");
        var names = input.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(["content-type", "user-agent", "x-github-event"], names.Order());
        Assert.DoesNotContain("whk_secret", input.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Given_a_query_with_a_token_When_logged_Then_the_token_is_redacted()
    {
        var query = new QueryCollection(new Dictionary<string, StringValues> { ["token"] = "whk_secret4", ["api_key"] = "k", ["page"] = "2" });
        var logged = WebhookRequestCapture.Query(query, "X-API-Key", redact: true);
        Assert.Equal(WebhookRequestCapture.Redacted, logged.GetProperty("token").GetString());
        Assert.Equal(WebhookRequestCapture.Redacted, logged.GetProperty("api_key").GetString());
        Assert.Equal("2", logged.GetProperty("page").GetString());
        Assert.False(WebhookRequestCapture.Query(query, "X-API-Key", redact: false).TryGetProperty("token", out _));
    }

    [Fact]
    public void Given_bodies_When_logged_Then_text_is_cut_at_the_limit_on_a_character_boundary_and_binary_is_base64()
    {
        Assert.Equal(("{\"a\":1}", "utf8", false), WebhookRequestCapture.LogBody(Encoding.UTF8.GetBytes("{\"a\":1}"), 100));
        Assert.Equal(("abc", "utf8", true), WebhookRequestCapture.LogBody(Encoding.UTF8.GetBytes("abcdef"), 3));
        // "é" is two bytes: a cut after its first byte keeps the text before it.
        Assert.Equal(("ab", "utf8", true), WebhookRequestCapture.LogBody(Encoding.UTF8.GetBytes("abé"), 3));
        var binary = new byte[] { 0xff, 0xfe, 0x00, 0x01 };
        Assert.Equal((Convert.ToBase64String(binary), "base64", false), WebhookRequestCapture.LogBody(binary, 100));
        Assert.Equal((null, "none", false), WebhookRequestCapture.LogBody([], 100));
        Assert.Equal((null, "none", true), WebhookRequestCapture.LogBody(Encoding.UTF8.GetBytes("abc"), 0));
    }

    [Fact]
    public void Given_many_headers_When_logged_Then_at_most_the_limit_is_kept_and_long_values_are_cut()
    {
        var headers = new HeaderDictionary();
        for (var i = 0; i < 150; i++) headers[$"X-H{i}"] = new string('v', i == 0 ? 5000 : 3);
        var logged = WebhookRequestCapture.LogHeaders(headers, "X-API-Key");
        Assert.Equal(WebhookRequestCapture.MaxFields, logged.EnumerateObject().Count());
        Assert.Equal(WebhookRequestCapture.MaxValueLength + 1, logged.GetProperty("x-h0").GetString()!.Length);
    }
}
