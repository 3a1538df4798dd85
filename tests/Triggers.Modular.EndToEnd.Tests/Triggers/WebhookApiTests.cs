using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.EndToEnd.Tests.Support;
using static Triggers.Modular.EndToEnd.Tests.Executions.ExecutionsApi;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;
using static Triggers.Modular.EndToEnd.Tests.Triggers.WebhookTestApi;

namespace Triggers.Modular.EndToEnd.Tests.Triggers;

/// <summary>
/// The webhook receiver (issue 7, SPEC §4) over real HTTP, on SQLite and PostgreSQL: the checks and their order (404, 409,
/// 405, 403, 413, 401, 429, then the workflow and the body), the four auth types and three HMAC schemes with signatures
/// computed here from the schemes' definitions, tampered and malformed signature headers, replays, secret rotation with
/// overlap, the request log (refusals included, secrets redacted, filters, paging), tenant isolation, and the execution a
/// request starts with its body as the <c>trigger</c> input. Nothing here may hold a secret afterwards: logs, events, tables.
/// </summary>
public sealed class WebhookApiTests(WebhookHosts hosts, EventsHosts defaults) : IClassFixture<WebhookHosts>, IClassFixture<EventsHosts>
{
    private const string Standard = """{ "auth_type": "hmac", "hmac_scheme": "standard" }""";
    private const string GitHub = """{ "auth_type": "hmac", "hmac_scheme": "github" }""";

    private static Task<HttpClient> ClientAsync(ApiHost host, string tenant = "acme", string environment = "dev") =>
        TriggerTestApi.ClientAsync(host, tenant, environment);

    private async Task<(ApiHost Host, HttpClient Client, HttpClient Anonymous)> SetUpAsync(StoreKind kind)
    {
        var host = await hosts.GetAsync(kind);
        return (host, await ClientAsync(host), host.Anonymous());
    }

    private static async Task<JsonObject> RotateAsync(HttpClient client, string triggerId, object? body = null)
    {
        using var response = await client.PostJsonAsync($"{TriggersRoute}/{triggerId}/rotate-secret", body ?? new { });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"rotating the secret of {triggerId}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static Task<HttpResponseMessage> SendStandardAsync(HttpClient anonymous, Webhook hook, string secret, string body, string? id = null,
        long? timestamp = null) =>
        SendAsync(anonymous, SignStandard(Request(hook.Path, body), secret, body, id, timestamp));

    private static Task<HttpResponseMessage> SendGitHubAsync(HttpClient anonymous, Webhook hook, string secret, string body,
        string contentType = "application/json")
    {
        var request = Request(hook.Path, body, contentType);
        request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", HexSignature(secret, body));
        return SendAsync(anonymous, request);
    }

    private static async Task<JsonObject> GetJsonAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(Url(path));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Waits until the current second has just begun, so that a timestamp computed now and checked by the server a
    /// few milliseconds later is still in the same second (a ±301 s timestamp must not become ±300 s on the way).</summary>
    private static async Task FreshSecondAsync()
    {
        var ms = DateTimeOffset.UtcNow.Millisecond;
        if (ms > 500) await Task.Delay(1000 - ms + 5);
    }

    // ---------------------------------------------------------------- the test's own signer

    [Fact]
    public void Given_the_known_answer_vectors_of_the_issue_When_this_suites_signer_computes_them_Then_it_gets_the_documented_signatures()
    {
        // Every signature below is computed by this suite, not by the product: the vectors prove the computation right.
        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            StandardSignature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", """{"test": 2432232314}"""));
        Assert.Equal("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            HexSignature("It's a Secret to Everybody", "Hello, World!"));
    }

    // ---------------------------------------------------------------- accepted requests and their executions

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_an_hmac_standard_webhook_When_a_signed_json_body_is_posted_Then_202_and_the_execution_completes_with_the_body_and_request_as_input(
        StoreKind kind)
    {
        var (host, client, anonymous) = await SetUpAsync(kind);
        var workflow = await WorkflowAsync(client);
        var hook = await CreateWebhookAsync(client, workflow, Standard);

        Assert.False(string.IsNullOrEmpty(hook.Secret), $"an hmac webhook's create answer shows its secret: {hook.Created.ToJsonString()}");
        var secret = hook.Secret!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.InRange(Convert.FromBase64String(secret["whsec_".Length..]).Length, 24, 64);
        var read = await GetJsonAsync(client, $"{TriggersRoute}/{hook.Id}");
        Assert.Equal(hook.Url, StrOrNull(read["webhook_url"]));
        Assert.Null(read["webhook_secret"]);
        Assert.DoesNotContain(secret["whsec_".Length..], read.ToJsonString(), StringComparison.Ordinal);
        var listed = await GetJsonAsync(client, $"{TriggersRoute}?workflow_id={workflow}");
        Assert.DoesNotContain(secret["whsec_".Length..], listed.ToJsonString(), StringComparison.Ordinal);

        const string body = """{ "order_id": 42,  "items": [ 1, 2 ], "note": "é ✓" }""";
        var deliveryId = $"msg_{Guid.NewGuid():N}";
        var request = SignStandard(Request(hook.Path + "?source=shop&token=abc", body), secret, body, deliveryId);
        request.Headers.TryAddWithoutValidation("X-Custom", "hello");
        var accepted = await AcceptedAsync(await SendAsync(anonymous, request));
        Assert.Equal("Workflow execution started", Str(accepted["message"]));
        var executionId = Str(accepted["execution_id"]);

        var done = await CompletedAsync(client, executionId);
        Assert.Equal("webhook", Str(done["trigger_type"]));
        Assert.Equal(workflow, Str(done["workflow_id"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(body), done["trigger_data"]), $"trigger_data is the body: {done["trigger_data"]?.ToJsonString()}");
        var @event = done["event"]!.AsObject();
        Assert.Equal(Str(accepted["request_id"]), Str(@event["id"]));
        Assert.Equal("webhook", Str(@event["name"]));
        Assert.Equal("POST", Str(@event["method"]));
        Assert.Equal(hook.Path, Str(@event["path"]));
        Assert.Equal("shop", Str(@event["query"]!["source"]));
        Assert.Null(@event["query"]!["token"]);
        Assert.Equal(deliveryId, Str(@event["delivery_id"]));
        var headers = @event["headers"]!.AsObject();
        Assert.Equal("hello", StrOrNull(headers["x-custom"]));
        Assert.All(headers.Select(h => h.Key), name => Assert.Equal(name.ToLowerInvariant(), name));
        Assert.Null(headers["webhook-signature"]);
        Assert.DoesNotContain(request.Headers.GetValues("webhook-signature").Single()[3..], done.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(42, Step(done, "s")["output"]!["got"]!.GetValue<int>());
        Assert.Equal("POST", Str(Step(done, "s")["output"]!["method"]));

        Assert.Equal(1, await FiringsAsync(host, hook.Id));
        var row = Assert.Single(await LogRowsAsync(client, hook.Id, 1));
        Assert.Equal(202, row["status"]!.GetValue<int>());
        Assert.Equal(executionId, StrOrNull(row["execution_id"]));
        Assert.Equal(Str(accepted["request_id"]), Str(row["request_id"]));
        Assert.Equal(deliveryId, StrOrNull(row["delivery_id"]));
    }

    [Fact]
    public async Task Given_a_github_style_webhook_rotated_to_the_documented_secret_When_the_documented_vector_is_posted_Then_202_and_one_changed_digit_401()
    {
        var (_, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var hook = await CreateWebhookAsync(client, await WorkflowAsync(client), GitHub);
        var generated = hook.Secret!;
        var rotated = await RotateAsync(client, hook.Id, new { overlap_seconds = 0, secret = "It's a Secret to Everybody" });
        Assert.Equal("It's a Secret to Everybody", Str(rotated["webhook_secret"]));
        Assert.Equal(2, rotated["secret_version"]!.GetValue<int>());

        const string vector = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        var good = Request(hook.Path, "Hello, World!", "text/plain");
        good.Headers.TryAddWithoutValidation("X-Hub-Signature-256", vector);
        var accepted = await AcceptedAsync(await SendAsync(anonymous, good));
        var done = await CompletedAsync(client, Str(accepted["execution_id"]));
        Assert.Equal("Hello, World!", done["trigger_data"]!.GetValue<string>());

        var changed = Request(hook.Path, "Hello, World!", "text/plain");
        changed.Headers.TryAddWithoutValidation("X-Hub-Signature-256", vector[..^1] + (vector[^1] == '7' ? '8' : '7'));
        await RefusedAsync(await SendAsync(anonymous, changed), 401, "bad_signature");
        // overlap 0: the generated secret stopped verifying at the rotation.
        await RefusedAsync(await SendGitHubAsync(anonymous, hook, generated, "Hello, World!", "text/plain"), 401, "bad_signature");
    }

    // ---------------------------------------------------------------- auth types

    [Theory]
    [InlineData("none")]
    [InlineData("api_key")]
    [InlineData("bearer")]
    [InlineData("standard")]
    [InlineData("github")]
    [InlineData("plain")]
    public async Task Given_a_webhook_of_each_auth_type_When_credentials_are_missing_misplaced_or_wrong_Then_401_with_the_reason_and_the_right_ones_202(
        string auth)
    {
        var (_, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var config = auth switch
        {
            "none" => "{}",
            "api_key" => """{ "auth_type": "api_key", "api_key_header": "X-Hook-Key" }""",
            "bearer" => """{ "auth_type": "bearer" }""",
            _ => $$"""{ "auth_type": "hmac", "hmac_scheme": "{{auth}}" }""",
        };
        var hook = await CreateWebhookAsync(client, await WorkflowAsync(client), config);
        const string body = """{ "order_id": 5 }""";
        var other = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        HttpRequestMessage Plain() => Request(hook.Path, body);
        HttpRequestMessage With(string header, string value)
        {
            var r = Plain();
            r.Headers.TryAddWithoutValidation(header, value);
            return r;
        }

        // (request, expected reason) pairs that must be refused, then the request that must pass.
        List<(string What, HttpRequestMessage Request, string Reason)> refused;
        HttpRequestMessage good;
        switch (auth)
        {
            case "none":
                Assert.Null(hook.Created["webhook_secret"]);
                refused = [];
                good = Plain();
                break;
            case "api_key":
                Assert.StartsWith("whk_", hook.Secret, StringComparison.Ordinal);
                refused =
                [
                    ("no key", Plain(), "missing_api_key"),
                    ("a wrong key", With("X-Hook-Key", hook.Secret + "x"), "bad_api_key"),
                    ("the key in the default header instead of the configured one", With("X-API-Key", hook.Secret!), "missing_api_key"),
                    ("the key as a bearer token", With("Authorization", $"Bearer {hook.Secret}"), "missing_api_key"),
                ];
                good = With("X-Hook-Key", hook.Secret!);
                break;
            case "bearer":
                Assert.StartsWith("whk_", hook.Secret, StringComparison.Ordinal);
                refused =
                [
                    ("no token", Plain(), "missing_token"),
                    ("a wrong token", With("Authorization", $"Bearer {hook.Secret}x"), "bad_token"),
                    ("the token under another scheme", With("Authorization", $"Basic {hook.Secret}"), "malformed_token"),
                    ("the token in an api-key header", With("X-API-Key", hook.Secret!), "missing_token"),
                ];
                good = With("Authorization", $"Bearer {hook.Secret}");
                break;
            case "standard":
                Assert.StartsWith("whsec_", hook.Secret, StringComparison.Ordinal);
                refused =
                [
                    ("no signature headers", Plain(), "missing_signature"),
                    ("a signature with another secret", SignStandard(Plain(), other, body), "bad_signature"),
                    ("a GitHub-style signature", With("X-Hub-Signature-256", HexSignature(hook.Secret!, body)), "missing_signature"),
                ];
                good = SignStandard(Plain(), hook.Secret!, body);
                break;
            default:
                var header = auth == "github" ? "X-Hub-Signature-256" : "X-Signature";
                var wrongHeader = auth == "github" ? "X-Signature" : "X-Hub-Signature-256";
                Assert.False(string.IsNullOrEmpty(hook.Secret), hook.Created.ToJsonString());
                refused =
                [
                    ("no signature", Plain(), "missing_signature"),
                    ("a signature with another secret", With(header, HexSignature(other, body)), "bad_signature"),
                    ("the signature of another body", With(header, HexSignature(hook.Secret!, body + " ")), "bad_signature"),
                    ("the signature in the other scheme's header", With(wrongHeader, HexSignature(hook.Secret!, body)), "missing_signature"),
                    ("the signature without its sha256= prefix", With(header, HexSignature(hook.Secret!, body)["sha256=".Length..]), "malformed_signature"),
                ];
                good = With(header, HexSignature(hook.Secret!, body));
                break;
        }

        foreach (var (what, request, reason) in refused)
        {
            var response = await SendAsync(anonymous, request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode == 401, $"{auth} with {what}: expected 401 {reason}, got {(int)response.StatusCode} {text}");
            await RefusedAsync(response, 401, reason);
            if (auth == "bearer") Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        var accepted = await AcceptedAsync(await SendAsync(anonymous, good));
        var done = await CompletedAsync(client, Str(accepted["execution_id"]));
        Assert.Equal(5, done["trigger_data"]!["order_id"]!.GetValue<int>());
        Assert.Equal(refused.Count + 1, (await LogRowsAsync(client, hook.Id, refused.Count + 1)).Count);
    }

    [Fact]
    public async Task Given_a_standard_webhook_When_the_body_is_reserialised_or_the_timestamp_is_301_s_off_Then_401_and_299_s_off_is_accepted()
    {
        var (_, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var hook = await CreateWebhookAsync(client, await WorkflowAsync(client), Standard);
        var secret = hook.Secret!;

        // Same JSON, other spacing: the signature covers the raw bytes, not a re-serialisation.
        const string signedBody = """{ "order_id": 1,  "note": "a b" }""";
        var reserialised = SignStandard(Request(hook.Path, """{"order_id":1,"note":"a b"}"""), secret, signedBody);
        await RefusedAsync(await SendAsync(anonymous, reserialised), 401, "bad_signature");
        var reordered = SignStandard(Request(hook.Path, """{ "note": "a b", "order_id": 1 }"""), secret, signedBody);
        await RefusedAsync(await SendAsync(anonymous, reordered), 401, "bad_signature");

        foreach (var offset in new[] { -301, 301 })
        {
            await FreshSecondAsync();
            var response = await SendStandardAsync(anonymous, hook, secret, signedBody, timestamp: Now() + offset);
            var problem = await RefusedAsync(response, 401, "timestamp_out_of_tolerance");
            Assert.Contains(offset < 0 ? "old" : "ahead", Str(problem["detail"]), StringComparison.Ordinal);
        }

        foreach (var offset in new[] { -299, 299 })
        {
            await FreshSecondAsync();
            await AcceptedAsync(await SendStandardAsync(anonymous, hook, secret, signedBody, timestamp: Now() + offset));
        }
    }

    public static TheoryData<string, string> MalformedStandardHeaders => new()
    {
        { "empty signature", "missing_signature" },
        { "no comma", "malformed_signature" },
        { "not base64", "malformed_signature" },
        { "base64 of 16 bytes", "malformed_signature" },
        { "only a v2 entry", "malformed_signature" },
        { "10,000 entries", "malformed_signature" },
        { "10,000 entries ending with the right one", "malformed_signature" },
        { "non-numeric timestamp", "malformed_timestamp" },
        { "fractional timestamp", "malformed_timestamp" },
        { "negative timestamp", "malformed_timestamp" },
        { "overflowing timestamp", "malformed_timestamp" },
        { "long.MaxValue timestamp", "timestamp_out_of_tolerance" },
        { "timestamp in milliseconds", "timestamp_out_of_tolerance" },
        { "empty webhook-id", "missing_signature" },
    };

    [Theory]
    [MemberData(nameof(MalformedStandardHeaders))]
    public async Task Given_a_standard_webhook_When_its_signature_headers_are_malformed_Then_401_with_the_reason_and_never_500(string malformation,
        string reason)
    {
        var (_, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var hook = await CreateWebhookAsync(client, await WorkflowAsync(client), Standard);
        const string body = """{ "order_id": 3 }""";
        var id = $"msg_{Guid.NewGuid():N}";
        var now = Now().ToString(CultureInfo.InvariantCulture);
        var right = StandardSignature(hook.Secret!, id, now, body);
        string Entries(int n) => string.Join(' ', Enumerable.Range(0, n).Select(_ => "v1," + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))));
        var (webhookId, timestamp, signature) = malformation switch
        {
            "empty signature" => (id, now, ""),
            "no comma" => (id, now, "v1" + right[3..]),
            "not base64" => (id, now, "v1,@@not*base64!!"),
            "base64 of 16 bytes" => (id, now, "v1," + Convert.ToBase64String(RandomNumberGenerator.GetBytes(16))),
            "only a v2 entry" => (id, now, "v2," + right[3..]),
            "10,000 entries" => (id, now, Entries(10_000)),
            "10,000 entries ending with the right one" => (id, now, Entries(9_999) + " " + right),
            "non-numeric timestamp" => (id, "abc", right),
            "fractional timestamp" => (id, now + ".5", right),
            "negative timestamp" => (id, "-" + now, right),
            "overflowing timestamp" => (id, "99999999999999999999", right),
            "long.MaxValue timestamp" => (id, long.MaxValue.ToString(CultureInfo.InvariantCulture), right),
            "timestamp in milliseconds" => (id, (Now() * 1000).ToString(CultureInfo.InvariantCulture), right),
            "empty webhook-id" => ("", now, right),
            _ => throw new ArgumentOutOfRangeException(nameof(malformation), malformation, null),
        };
        var request = Request(hook.Path, body);
        request.Headers.TryAddWithoutValidation("webhook-id", webhookId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp);
        request.Headers.TryAddWithoutValidation("webhook-signature", signature);

        var response = await SendAsync(anonymous, request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == 401, $"{malformation}: expected 401 {reason}, got {(int)response.StatusCode} {text}");
        await RefusedAsync(response, 401, reason);
        var row = Assert.Single(await LogRowsAsync(client, hook.Id, 1));
        Assert.Equal(reason, StrOrNull(row["reason"]));
    }

    [Fact]
    public async Task Given_a_standard_webhook_When_several_signatures_are_sent_and_one_matches_Then_202()
    {
        var (_, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var hook = await CreateWebhookAsync(client, await WorkflowAsync(client), Standard);
        const string body = """{ "order_id": 8 }""";
        var id = $"msg_{Guid.NewGuid():N}";
        var now = Now().ToString(CultureInfo.InvariantCulture);
        var other = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var request = Request(hook.Path, body);
        request.Headers.TryAddWithoutValidation("webhook-id", id);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", now);
        request.Headers.TryAddWithoutValidation("webhook-signature",
            $"v1,{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))} v1a,xyz {StandardSignature(other, id, now, body)} {StandardSignature(hook.Secret!, id, now, body)}");

        await AcceptedAsync(await SendAsync(anonymous, request));
    }

    // ---------------------------------------------------------------- replays

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_a_delivery_sent_again_with_the_same_webhook_id_sequentially_and_concurrently_Then_every_answer_names_the_first_execution_and_one_runs(
        StoreKind kind)
    {
        var (host, client, anonymous) = await SetUpAsync(kind);
        var workflow = await WorkflowAsync(client);
        var hook = await CreateWebhookAsync(client, workflow, Standard);
        const string body = """{ "order_id": 11 }""";

        var first = $"msg_{Guid.NewGuid():N}";
        var timestamp = Now();
        var original = await AcceptedAsync(await SendStandardAsync(anonymous, hook, hook.Secret!, body, first, timestamp));
        var identical = await AcceptedAsync(await SendStandardAsync(anonymous, hook, hook.Secret!, body, first, timestamp));
        var resigned = await AcceptedAsync(await SendStandardAsync(anonymous, hook, hook.Secret!, body, first, Now() + 1));
        var firstExecution = Str(original["execution_id"]);
        Assert.Equal(firstExecution, Str(identical["execution_id"]));
        Assert.Equal(firstExecution, Str(resigned["execution_id"]));

        var second = $"msg_{Guid.NewGuid():N}";
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 8).Select(
            async _ => await AcceptedAsync(await SendStandardAsync(anonymous, hook, hook.Secret!, body, second))));
        var secondExecution = Assert.Single(concurrent.Select(c => Str(c["execution_id"])).Distinct());
        Assert.NotEqual(firstExecution, secondExecution);

        // One execution per delivery id, however often it came.
        foreach (var id in new[] { firstExecution, secondExecution }) await CompletedAsync(client, id);
        Assert.Equal(2, await FiringsAsync(host, hook.Id));
        var executions = await WebhookExecutionsAsync(client, workflow, 2);
        Assert.Equal(new[] { firstExecution, secondExecution }.Order(), executions.Select(e => Str(e!["id"])).Order());

        // The replays are told so, and each is in the log pointing at the first request.
        var problems = new List<string>();
        foreach (var (what, replay) in new[] { ("an identical replay", identical), ("a re-signed replay", resigned) })
            if (Str(replay["message"]) == Str(original["message"]))
                problems.Add($"{what} answered the first request's message '{Str(replay["message"])}' (request_id {Str(replay["request_id"])})");
        var startedConcurrently = concurrent.Count(c => Str(c["message"]) == "Workflow execution started");
        if (startedConcurrently != 1) problems.Add($"{startedConcurrently} of 8 concurrent requests with one webhook-id answered 'Workflow execution started'");
        var rows = await LogRowsOrWhatIsThereAsync(client, hook.Id, 11);
        if (rows.Count != 11) problems.Add($"the log holds {rows.Count} rows for 11 requests: {string.Join(", ", rows.Select(r => $"{r["delivery_id"]}/{r["duplicate_of"]}"))}");
        foreach (var (delivery, execution) in new[] { (first, firstExecution), (second, secondExecution) })
        {
            var ofDelivery = rows.Where(r => StrOrNull(r["delivery_id"]) == delivery).ToList();
            var firsts = ofDelivery.Where(r => r["duplicate_of"] is null).ToList();
            if (firsts.Count != 1) problems.Add($"delivery {delivery}: {firsts.Count} rows without duplicate_of (expected 1)");
            if (ofDelivery.Any(r => StrOrNull(r["execution_id"]) != execution || r["status"]!.GetValue<int>() != 202))
                problems.Add($"delivery {delivery}: a row names another execution or status");
            if (firsts.Count == 1 && ofDelivery.Any(r => r != firsts[0] && StrOrNull(r["duplicate_of"]) != Str(firsts[0]["request_id"])))
                problems.Add($"delivery {delivery}: a duplicate row does not point at the first request");
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Given_an_X_GitHub_Delivery_or_Idempotency_Key_header_When_a_request_is_repeated_Then_the_same_execution_and_one_firing()
    {
        var (host, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var github = await CreateWebhookAsync(client, await WorkflowAsync(client), GitHub);
        var open = await CreateWebhookAsync(client, await WorkflowAsync(client));
        var delivery = Guid.NewGuid().ToString();
        var key = $"key-{Guid.NewGuid():N}";

        async Task<string> GitHubAsync(string body)
        {
            var request = Request(github.Path, body);
            request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", HexSignature(github.Secret!, body));
            request.Headers.TryAddWithoutValidation("X-GitHub-Delivery", delivery);
            return Str((await AcceptedAsync(await SendAsync(anonymous, request)))["execution_id"]);
        }

        async Task<string> OpenAsync(string body)
        {
            var request = Request(open.Path, body);
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
            return Str((await AcceptedAsync(await SendAsync(anonymous, request)))["execution_id"]);
        }

        var g = await GitHubAsync("""{ "order_id": 1 }""");
        Assert.Equal(g, await GitHubAsync("""{ "order_id": 1 }"""));
        Assert.Equal(g, await GitHubAsync("""{ "order_id": 2 }"""));
        var o = await OpenAsync("{}");
        Assert.Equal(o, await OpenAsync("{}"));

        Assert.Equal(1, await FiringsAsync(host, github.Id));
        Assert.Equal(1, await FiringsAsync(host, open.Id));
        Assert.Equal(1, (await CompletedAsync(client, g))["trigger_data"]!["order_id"]!.GetValue<int>());
        // Without a delivery id every request is new.
        var a = Str((await AcceptedAsync(await SendAsync(anonymous, Request(open.Path, "{}"))))["execution_id"]);
        var b = Str((await AcceptedAsync(await SendAsync(anonymous, Request(open.Path, "{}"))))["execution_id"]);
        Assert.NotEqual(a, b);
        Assert.DoesNotContain(o, new[] { a, b });
    }

    [Theory]
    [InlineData("{}", """{ "auth_type": "bearer" }""")]
    [InlineData("""{ "auth_type": "api_key" }""", """{ "auth_type": "hmac", "hmac_scheme": "standard" }""")]
    [InlineData("""{ "auth_type": "bearer" }""", """{ "auth_type": "hmac", "hmac_scheme": "github" }""")]
    public async Task Given_a_webhook_whose_auth_type_is_changed_When_updated_Then_the_trigger_has_a_secret_of_the_new_kind_that_verifies(string before,
        string after)
    {
        var (_, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var workflow = await WorkflowAsync(client);
        var hook = await CreateWebhookAsync(client, workflow, before);
        using var put = await client.PutAsync(Url($"{TriggersRoute}/{hook.Id}"), Json($$"""
            { "workflow_id": "{{workflow}}", "name": "changed", "config": {{after}} }
            """));
        var text = await put.Content.ReadAsStringAsync();
        Assert.True(put.StatusCode == HttpStatusCode.OK, $"updating the trigger: {(int)put.StatusCode} {text}");
        var updated = JsonNode.Parse(text)!.AsObject();
        // The secret that verifies now: the one the update answer shows, else the one the create answer showed.
        var secret = StrOrNull(updated["webhook_secret"]) ?? hook.Secret;
        Assert.False(string.IsNullOrEmpty(secret), $"after {before} -> {after} no answer ever showed a secret: {text}");
        const string body = """{ "order_id": 31 }""";
        var request = Request(hook.Path, body);
        if (after.Contains("bearer", StringComparison.Ordinal)) request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {secret}");
        else if (after.Contains("github", StringComparison.Ordinal)) request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", HexSignature(secret!, body));
        else
        {
            Assert.True(secret!.StartsWith("whsec_", StringComparison.Ordinal),
                $"after {before} -> {after} the only secret shown is '{secret[..4]}…', not a Standard Webhooks whsec_ secret; update answer: {text}");
            SignStandard(request, secret, body);
        }

        await AcceptedAsync(await SendAsync(anonymous, request));
        Assert.Null((await GetJsonAsync(client, $"{TriggersRoute}/{hook.Id}"))["webhook_secret"]);
    }

    [Fact]
    public async Task Given_a_webhook_trigger_declared_in_a_definition_When_it_has_no_secret_yet_Then_401_no_secret_until_a_rotation_issues_one()
    {
        var (_, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var workflow = await CreateDefinitionAsync(client, EchoStep, """ "trigger": { "type": "webhook", "auth_type": "bearer" } """);
        var declared = await EventuallyAsync(() => GetJsonAsync(client, $"{TriggersRoute}?workflow_id={workflow}"),
            l => l["items"]!.AsArray().Count == 1, "the declared webhook trigger in the list");
        var trigger = declared["items"]![0]!.AsObject();
        var id = Str(trigger["id"]);
        Assert.Equal("definition", Str(trigger["source"]));
        Assert.Null(trigger["webhook_secret"]);
        var path = new Uri(Str(trigger["webhook_url"]), UriKind.Absolute).AbsolutePath;

        var refused = Request(path, """{ "order_id": 41 }""");
        refused.Headers.TryAddWithoutValidation("Authorization", "Bearer whk_anything_at_all_0000000000");
        await RefusedAsync(await SendAsync(anonymous, refused), 401, "no_secret");

        var secret = Str((await RotateAsync(client, id))["webhook_secret"]);
        var accepted = Request(path, """{ "order_id": 41 }""");
        accepted.Headers.TryAddWithoutValidation("Authorization", $"Bearer {secret}");
        var done = await CompletedAsync(client, Str((await AcceptedAsync(await SendAsync(anonymous, accepted)))["execution_id"]));
        Assert.Equal(41, Step(done, "s")["output"]!["got"]!.GetValue<int>());
    }

    // ---------------------------------------------------------------- rotation

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_a_rotated_secret_When_the_overlap_runs_Then_old_and_new_verify_and_after_it_or_with_overlap_0_only_the_newest(StoreKind kind)
    {
        var (_, client, anonymous) = await SetUpAsync(kind);
        var hook = await CreateWebhookAsync(client, await WorkflowAsync(client), Standard);
        const string body = """{ "order_id": 21 }""";
        var s1 = hook.Secret!;

        var before = DateTimeOffset.UtcNow;
        var r2 = await RotateAsync(client, hook.Id, new { overlap_seconds = 120 });
        Assert.Equal(hook.Id, Str(r2["trigger_id"]));
        Assert.Equal(hook.Url, StrOrNull(r2["webhook_url"]));
        var s2 = Str(r2["webhook_secret"]);
        Assert.StartsWith("whsec_", s2, StringComparison.Ordinal);
        Assert.NotEqual(s1, s2);
        Assert.Equal(2, r2["secret_version"]!.GetValue<int>());
        Assert.InRange(Time(r2["previous_secret_expires_at"]), before.AddSeconds(118), DateTimeOffset.UtcNow.AddSeconds(122));

        await AcceptedAsync(await SendStandardAsync(anonymous, hook, s1, body));
        await AcceptedAsync(await SendStandardAsync(anonymous, hook, s2, body));

        // A chosen secret (24 bytes), with an overlap of 1 s: s2 verifies, then stops by itself; s1 ended with it.
        var s3 = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
        var r3 = await RotateAsync(client, hook.Id, new { overlap_seconds = 1, secret = s3 });
        Assert.Equal(s3, Str(r3["webhook_secret"]));
        Assert.Equal(3, r3["secret_version"]!.GetValue<int>());
        await AcceptedAsync(await SendStandardAsync(anonymous, hook, s3, body));
        await EventuallyAsync(async () => (int)(await SendStandardAsync(anonymous, hook, s2, body)).StatusCode, s => s == 401,
            "the previous secret to stop verifying once its 1 s overlap ended", seconds: 5);
        await RefusedAsync(await SendStandardAsync(anonymous, hook, s1, body), 401, "bad_signature");
        await RefusedAsync(await SendStandardAsync(anonymous, hook, s2, body), 401, "bad_signature");

        var r4 = await RotateAsync(client, hook.Id, new { overlap_seconds = 0 });
        var s4 = Str(r4["webhook_secret"]);
        Assert.Equal(4, r4["secret_version"]!.GetValue<int>());
        await RefusedAsync(await SendStandardAsync(anonymous, hook, s3, body), 401, "bad_signature");
        await AcceptedAsync(await SendStandardAsync(anonymous, hook, s4, body));

        var read = await GetJsonAsync(client, $"{TriggersRoute}/{hook.Id}");
        Assert.Null(read["webhook_secret"]);
        foreach (var s in new[] { s1, s2, s3, s4 }) Assert.DoesNotContain(s["whsec_".Length..], read.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Given_rotation_requests_When_the_secret_is_invalid_the_trigger_no_webhook_or_unknown_Then_400_409_or_404()
    {
        var (_, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var workflow = await WorkflowAsync(client);
        var standard = await CreateWebhookAsync(client, workflow, Standard);
        var bearer = await CreateWebhookAsync(client, workflow, """{ "auth_type": "bearer" }""");
        var route = (string id) => $"{TriggersRoute}/{id}/rotate-secret";

        foreach (var invalid in new object[]
                 {
                     new { secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)) }, // too few bytes for standard
                     new { secret = "not-a-whsec-secret-at-all" },
                     new { overlap_seconds = -1 },
                 })
            await (await client.PostJsonAsync(route(standard.Id), invalid)).ProblemAsync(400);
        foreach (var invalid in new object[] { new { secret = "short" }, new { secret = "has-a-tab-\there-and-more" }, new { secret = new string('x', 513) } })
            await (await client.PostJsonAsync(route(bearer.Id), invalid)).ProblemAsync(400);
        // A refused rotation changed nothing: the original bearer token still verifies.
        var request = Request(bearer.Path, "{}");
        request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {bearer.Secret}");
        await AcceptedAsync(await SendAsync(anonymous, request));

        var chosen = $"my-own-token-{Guid.NewGuid():N}";
        Assert.Equal(chosen, Str((await RotateAsync(client, bearer.Id, new { secret = chosen, overlap_seconds = 0 }))["webhook_secret"]));

        var eventTrigger = await client.PostAsync(Url(TriggersRoute), Json($$"""
            { "workflow_id": "{{workflow}}", "name": "ev", "type": "event", "config": { "event_name": "a.b" } }
            """));
        var eventId = Str((await eventTrigger.JsonAsync())["id"]);
        await (await client.PostJsonAsync(route(eventId), new { })).ProblemAsync(409);
        await (await client.PostJsonAsync(route("trg_00000000000000000000000000"), new { })).ProblemAsync(404, "not-found");
    }

    // ---------------------------------------------------------------- each check's status

    [Fact]
    public async Task Given_unknown_malformed_non_webhook_and_deleted_trigger_ids_When_webhooks_arrive_Then_404_not_found()
    {
        var (_, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var workflow = await WorkflowAsync(client);
        var hook = await CreateWebhookAsync(client, workflow);
        await AcceptedAsync(await SendAsync(anonymous, Request(hook.Path)));
        var eventTrigger = await client.PostAsync(Url(TriggersRoute), Json($$"""
            { "workflow_id": "{{workflow}}", "name": "ev", "type": "event", "config": { "event_name": "x.y" } }
            """));
        var eventId = Str((await eventTrigger.JsonAsync())["id"]);

        foreach (var id in new[] { "trg_00000000000000000000000000", "trg_nope", "not-an-id", eventId })
        {
            await (await SendAsync(anonymous, Request($"/api/webhooks/{id}"))).ProblemAsync(404, "not-found");
            await (await SendAsync(anonymous, Request($"/api/webhooks/{id}", null, method: HttpMethod.Get))).ProblemAsync(404, "not-found");
        }

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(Url($"{TriggersRoute}/{hook.Id}"))).StatusCode);
        await (await SendAsync(anonymous, Request(hook.Path))).ProblemAsync(404, "not-found");
        await (await client.GetAsync(Url($"{TriggersRoute}/{hook.Id}/webhook-logs"))).ProblemAsync(404, "not-found");
        await (await client.PostJsonAsync($"{TriggersRoute}/{hook.Id}/rotate-secret", new { })).ProblemAsync(404, "not-found");
        await (await client.GetAsync(Url($"{TriggersRoute}/{eventId}/webhook-logs"))).ProblemAsync(404, "not-found");
    }

    [Fact]
    public async Task Given_a_disabled_webhook_When_requests_arrive_even_with_a_bad_signature_or_method_Then_409_trigger_disabled_until_enabled()
    {
        var (host, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var workflow = await WorkflowAsync(client);
        var hook = await CreateWebhookAsync(client, workflow, GitHub, enabled: false);
        const string body = """{ "order_id": 2 }""";

        await RefusedAsync(await SendGitHubAsync(anonymous, hook, hook.Secret!, body), 409, "trigger_disabled", "trigger-disabled");
        await RefusedAsync(await SendGitHubAsync(anonymous, hook, "wrong-secret-wrong-secret", body), 409, "trigger_disabled", "trigger-disabled");
        await RefusedAsync(await SendAsync(anonymous, Request(hook.Path, null, method: HttpMethod.Delete)), 409, "trigger_disabled", "trigger-disabled");

        (await client.PostAsync(Url($"{TriggersRoute}/{hook.Id}/enable"), null)).EnsureSuccessStatusCode();
        await AcceptedAsync(await SendGitHubAsync(anonymous, hook, hook.Secret!, body));
        (await client.PostAsync(Url($"{TriggersRoute}/{hook.Id}/disable"), null)).EnsureSuccessStatusCode();
        await RefusedAsync(await SendGitHubAsync(anonymous, hook, hook.Secret!, body), 409, "trigger_disabled", "trigger-disabled");
        Assert.Equal(1, await FiringsAsync(host, hook.Id));
        var rows = await LogRowsAsync(client, hook.Id, 5);
        Assert.Equal(new[] { 409, 202, 409, 409, 409 }, rows.Select(r => r["status"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Given_a_webhook_for_one_method_When_another_arrives_Then_405_with_Allow_before_auth_and_ANY_accepts_every_method()
    {
        var (_, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var workflow = await WorkflowAsync(client);
        var post = await CreateWebhookAsync(client, workflow, """{ "auth_type": "bearer" }""");
        var put = await CreateWebhookAsync(client, workflow, """{ "method": "PUT" }""");
        var any = await CreateWebhookAsync(client, workflow, """{ "method": "ANY" }""");

        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch })
        {
            // No credentials at all: the method is judged first.
            var response = await SendAsync(anonymous, Request(post.Path, method == HttpMethod.Get || method == HttpMethod.Delete ? null : "{}", method: method));
            await RefusedAsync(response, 405, "method_not_allowed");
            Assert.Equal("POST", string.Join(",", response.Content.Headers.Allow));
        }

        var refused = await SendAsync(anonymous, Request(put.Path));
        await RefusedAsync(refused, 405, "method_not_allowed");
        Assert.Equal("PUT", string.Join(",", refused.Content.Headers.Allow));
        await AcceptedAsync(await SendAsync(anonymous, Request(put.Path, """{ "order_id": 4 }""", method: HttpMethod.Put)));

        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post, HttpMethod.Put, HttpMethod.Patch, HttpMethod.Delete })
        {
            var accepted = await AcceptedAsync(await SendAsync(anonymous,
                Request(any.Path + "?order_id=9", method == HttpMethod.Get || method == HttpMethod.Delete ? null : """{ "order_id": 9 }""", method: method)));
            var done = await CompletedAsync(client, Str(accepted["execution_id"]));
            Assert.Equal(method.Method, Str(done["event"]!["method"]));
            Assert.Equal(method.Method, Str(Step(done, "s")["output"]!["method"]));
            if (method == HttpMethod.Get) Assert.True(JsonNode.DeepEquals(new JsonObject(), done["trigger_data"]), done.ToJsonString());
        }
    }

    [Fact]
    public async Task Given_allowed_origins_When_an_unlisted_or_missing_origin_calls_Then_403_before_auth_and_a_listed_one_is_accepted()
    {
        var (_, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var workflow = await WorkflowAsync(client);
        var listed = await CreateWebhookAsync(client, workflow, """{ "auth_type": "bearer", "allowed_origins": ["https://a.example.com"] }""");
        var star = await CreateWebhookAsync(client, workflow, """{ "allowed_origins": ["*"] }""");
        HttpRequestMessage From(Webhook hook, string? origin, string? token)
        {
            var request = Request(hook.Path);
            if (origin is not null) request.Headers.TryAddWithoutValidation("Origin", origin);
            if (token is not null) request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {token}");
            return request;
        }

        foreach (var origin in new[] { "https://evil.example.com", "https://a.example.com.evil.com", "http://a.example.com", null })
        {
            await RefusedAsync(await SendAsync(anonymous, From(listed, origin, listed.Secret)), 403, "origin_not_allowed");
            await RefusedAsync(await SendAsync(anonymous, From(listed, origin, "bad-token")), 403, "origin_not_allowed"); // before auth
        }

        var ok = await SendAsync(anonymous, From(listed, "https://a.example.com", listed.Secret));
        await AcceptedAsync(ok);
        Assert.Equal("https://a.example.com", ok.Headers.GetValues("Access-Control-Allow-Origin").Single());
        await RefusedAsync(await SendAsync(anonymous, From(listed, "https://a.example.com", "bad-token")), 401, "bad_token");

        await AcceptedAsync(await SendAsync(anonymous, From(star, "https://anything.example.org", null)));
        await RefusedAsync(await SendAsync(anonymous, From(star, null, null)), 403, "origin_not_allowed");
    }

    [Fact]
    public async Task Given_a_body_limit_of_4096_bytes_When_bodies_of_the_limit_and_one_byte_more_arrive_Then_202_and_413_before_auth()
    {
        var (_, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var hook = await CreateWebhookAsync(client, await WorkflowAsync(client), GitHub);
        var atLimit = new string('a', WebhookHosts.MaxBodyBytes);
        var over = atLimit + "b";

        var accepted = await AcceptedAsync(await SendGitHubAsync(anonymous, hook, hook.Secret!, atLimit, "text/plain"));
        Assert.Equal(atLimit, (await CompletedAsync(client, Str(accepted["execution_id"])))["trigger_data"]!.GetValue<string>());

        await RefusedAsync(await SendGitHubAsync(anonymous, hook, hook.Secret!, over, "text/plain"), 413, "body_too_large");
        await RefusedAsync(await SendGitHubAsync(anonymous, hook, "wrong-secret-wrong-secret", over, "text/plain"), 413, "body_too_large"); // before auth
        var chunked = new HttpRequestMessage(HttpMethod.Post, Url(hook.Path)) { Content = new UnknownLengthContent(Encoding.UTF8.GetBytes(over), "text/plain") };
        chunked.Headers.TryAddWithoutValidation("X-Hub-Signature-256", HexSignature(hook.Secret!, over));
        await RefusedAsync(await SendAsync(anonymous, chunked), 413, "body_too_large");

        var rows = await LogRowsAsync(client, hook.Id, 4);
        Assert.Equal(new[] { 413, 413, 413, 202 }, rows.Select(r => r["status"]!.GetValue<int>()));
        Assert.All(rows.Take(3), r => Assert.Equal("body_too_large", StrOrNull(r["reason"])));
    }

    [Fact]
    public async Task Given_the_default_1_MiB_body_limit_When_a_larger_body_arrives_Then_413_body_too_large_is_recorded_and_a_disabled_trigger_still_answers_409()
    {
        var host = await defaults.GetAsync(StoreKind.Sqlite);
        var client = await ClientAsync(host);
        var anonymous = host.Anonymous();
        var workflow = await WorkflowAsync(client);
        var enabled = await CreateWebhookAsync(client, workflow);
        var disabled = await CreateWebhookAsync(client, workflow, enabled: false);
        var over = new string('a', 1024 * 1024 + 1);

        var problems = new List<string>();
        var tooLarge = await SendAsync(anonymous, Request(enabled.Path, over, "text/plain"));
        var tooLargeText = await tooLarge.Content.ReadAsStringAsync();
        if ((int)tooLarge.StatusCode != 413 || StrOrNull(JsonNode.Parse(tooLargeText)?["reason"]) != "body_too_large")
            problems.Add($"an enabled webhook: expected 413 with reason body_too_large, got {(int)tooLarge.StatusCode} {tooLargeText}");
        var rows = await LogRowsOrWhatIsThereAsync(client, enabled.Id, 1);
        if (rows.Count != 1 || StrOrNull(rows[0]["reason"]) != "body_too_large")
            problems.Add($"an enabled webhook: expected one log row with reason body_too_large, the log holds {rows.Count}: {string.Join(", ", rows.Select(r => r.ToJsonString()))}");
        var disabledAnswer = await SendAsync(anonymous, Request(disabled.Path, over, "text/plain"));
        if ((int)disabledAnswer.StatusCode != 409)
            problems.Add($"a disabled webhook: expected 409 (disabled is checked before the body), got {(int)disabledAnswer.StatusCode} {await disabledAnswer.Content.ReadAsStringAsync()}");
        var unknown = await SendAsync(anonymous, Request("/api/webhooks/trg_00000000000000000000000000", over, "text/plain"));
        if ((int)unknown.StatusCode != 404)
            problems.Add($"an unknown trigger: expected 404 (checked before the body), got {(int)unknown.StatusCode}");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Given_a_200_KB_body_When_accepted_Then_the_execution_gets_it_whole_and_the_log_keeps_a_prefix_marked_truncated()
    {
        var host = await defaults.GetAsync(StoreKind.Sqlite);
        var client = await ClientAsync(host);
        var hook = await CreateWebhookAsync(client, await WorkflowAsync(client));
        var text = string.Concat(Enumerable.Range(0, 20_000).Select(i => (char)('a' + (i % 26)))) + "é✓";
        var body = new JsonObject { ["order_id"] = 51, ["text"] = string.Concat(Enumerable.Repeat(text, 10)) }.ToJsonString();

        var accepted = await AcceptedAsync(await SendAsync(host.Anonymous(), Request(hook.Path, body)));
        var done = await CompletedAsync(client, Str(accepted["execution_id"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(body), done["trigger_data"]), "the execution's input is the whole body");
        var row = Assert.Single(await LogRowsAsync(client, hook.Id, 1));
        Assert.True(row["body_truncated"]!.GetValue<bool>(), $"a {body.Length}-byte body is cut in the log: {row["body_bytes"]}");
        Assert.Equal(Encoding.UTF8.GetByteCount(body), row["body_bytes"]!.GetValue<long>());
        var kept = Str(row["body"]);
        Assert.Equal("utf8", Str(row["body_encoding"]));
        Assert.InRange(kept.Length, 1, body.Length - 1);
        Assert.StartsWith(kept, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Given_rate_limit_per_minute_2_When_more_requests_arrive_Then_429_with_Retry_After_after_auth_and_refused_auth_uses_no_permit()
    {
        var (host, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var hook = await CreateWebhookAsync(client, await WorkflowAsync(client), """{ "auth_type": "bearer", "rate_limit_per_minute": 2 }""");
        HttpRequestMessage With(string token)
        {
            var request = Request(hook.Path, """{ "order_id": 6 }""");
            request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {token}");
            return request;
        }

        await RefusedAsync(await SendAsync(anonymous, With("bad-token")), 401, "bad_token");
        await AcceptedAsync(await SendAsync(anonymous, With(hook.Secret!)));
        await AcceptedAsync(await SendAsync(anonymous, With(hook.Secret!)));
        await RefusedAsync(await SendAsync(anonymous, With("bad-token")), 401, "bad_token"); // auth is judged before the limit
        var limited = await SendAsync(anonymous, With(hook.Secret!));
        var problem = await RefusedAsync(limited, 429, "rate_limited");
        var retryAfter = limited.Headers.RetryAfter;
        Assert.True(retryAfter?.Delta is { } delta && delta >= TimeSpan.FromSeconds(1) && delta <= TimeSpan.FromSeconds(60),
            $"Retry-After in whole seconds, 1–60: {retryAfter} ({problem.ToJsonString()})");

        Assert.Equal(2, await FiringsAsync(host, hook.Id));
        var rows = await LogRowsAsync(client, hook.Id, 5);
        Assert.Equal(new[] { 429, 401, 202, 202, 401 }, rows.Select(r => r["status"]!.GetValue<int>()));
        Assert.Equal("rate_limited", StrOrNull(rows[0]["reason"]));
    }

    [Fact]
    public async Task Given_a_request_failing_several_checks_When_sent_Then_the_first_failing_check_in_the_documented_order_answers()
    {
        var (host, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var workflow = await WorkflowAsync(client);
        var hook = await CreateWebhookAsync(client, workflow,
            """{ "method": "PUT", "auth_type": "hmac", "hmac_scheme": "github", "allowed_origins": ["https://a.example.com"], "rate_limit_per_minute": 1 }""",
            enabled: false);
        var small = """{ "order_id": 7 }""";
        var big = new string(' ', WebhookHosts.MaxBodyBytes) + small;
        HttpRequestMessage Make(HttpMethod method, string? origin, string body, string secret)
        {
            var request = Request(hook.Path, body, method: method);
            if (origin is not null) request.Headers.TryAddWithoutValidation("Origin", origin);
            request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", HexSignature(secret, body));
            return request;
        }

        const string bad = "wrong-secret-wrong-secret";
        const string evil = "https://evil.example.com";
        const string good = "https://a.example.com";
        await RefusedAsync(await SendAsync(anonymous, Make(HttpMethod.Post, evil, big, bad)), 409, "trigger_disabled");
        (await client.PostAsync(Url($"{TriggersRoute}/{hook.Id}/enable"), null)).EnsureSuccessStatusCode();
        await RefusedAsync(await SendAsync(anonymous, Make(HttpMethod.Post, evil, big, bad)), 405, "method_not_allowed");
        await RefusedAsync(await SendAsync(anonymous, Make(HttpMethod.Put, evil, big, bad)), 403, "origin_not_allowed");
        await RefusedAsync(await SendAsync(anonymous, Make(HttpMethod.Put, good, big, bad)), 413, "body_too_large");
        await RefusedAsync(await SendAsync(anonymous, Make(HttpMethod.Put, good, small, bad)), 401, "bad_signature");
        await AcceptedAsync(await SendAsync(anonymous, Make(HttpMethod.Put, good, small, hook.Secret!)));
        (await client.PostAsync(Url($"{DefinitionsRoute}/{workflow}/disable"), null)).EnsureSuccessStatusCode();
        await RefusedAsync(await SendAsync(anonymous, Make(HttpMethod.Put, good, small, bad)), 401, "bad_signature"); // auth before the workflow
        await RefusedAsync(await SendAsync(anonymous, Make(HttpMethod.Put, good, small, hook.Secret!)), 429, "rate_limited"); // the limit before the workflow

        Assert.Equal(1, await FiringsAsync(host, hook.Id));
        var rows = await LogRowsAsync(client, hook.Id, 8);
        Assert.Equal(new[] { "rate_limited", "bad_signature", null, "bad_signature", "body_too_large", "origin_not_allowed", "method_not_allowed", "trigger_disabled" },
            rows.Select(r => StrOrNull(r["reason"])));
    }

    [Fact]
    public async Task Given_a_disabled_or_deleted_workflow_When_an_authenticated_request_arrives_Then_409_and_nothing_starts()
    {
        var (host, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var workflow = await WorkflowAsync(client);
        var hook = await CreateWebhookAsync(client, workflow, """{ "auth_type": "bearer" }""");
        HttpRequestMessage With(string token)
        {
            var request = Request(hook.Path, """{ "order_id": 6 }""");
            request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {token}");
            return request;
        }

        (await client.PostAsync(Url($"{DefinitionsRoute}/{workflow}/disable"), null)).EnsureSuccessStatusCode();
        var disabled = await RefusedAsync(await SendAsync(anonymous, With(hook.Secret!)), 409, "definition_disabled");
        Assert.Contains(workflow, Str(disabled["detail"]), StringComparison.Ordinal);
        await RefusedAsync(await SendAsync(anonymous, With("bad-token")), 401, "bad_token");
        (await client.PostAsync(Url($"{DefinitionsRoute}/{workflow}/enable"), null)).EnsureSuccessStatusCode();
        await AcceptedAsync(await SendAsync(anonymous, With(hook.Secret!)));
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(Url($"{DefinitionsRoute}/{workflow}"))).StatusCode);
        var missing = await RefusedAsync(await SendAsync(anonymous, With(hook.Secret!)), 409, "definition_missing");
        Assert.Contains(workflow, Str(missing["detail"]), StringComparison.Ordinal);
        Assert.Equal(1, await FiringsAsync(host, hook.Id));
    }

    [Fact]
    public async Task Given_bodies_of_several_content_types_When_sent_Then_json_is_parsed_form_fields_become_an_object_text_a_string_empty_an_object_and_bad_json_400()
    {
        var (_, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var hook = await CreateWebhookAsync(client, await WorkflowAsync(client));

        var bad = await RefusedAsync(await SendAsync(anonymous, Request(hook.Path, """{ "order_id": 1, """)), 400, "invalid_body");
        Assert.False(string.IsNullOrEmpty(StrOrNull(bad["detail"])), bad.ToJsonString());
        await RefusedAsync(await SendAsync(anonymous, Request(hook.Path, "not json", "application/vnd.api+json")), 400, "invalid_body");

        HttpRequestMessage Raw(byte[] bytes, string? contentType)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, Url(hook.Path)) { Content = new ByteArrayContent(bytes) };
            if (contentType is not null) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            return request;
        }

        byte[] binary = [0xff, 0xfe, 0x00, 0x41];
        var cases = new (string What, HttpRequestMessage Request, JsonNode Expected)[]
        {
            ("broken JSON as text/plain", Request(hook.Path, """{ "order_id": 1, """, "text/plain"), JsonValue.Create("""{ "order_id": 1, """)),
            ("a form", Request(hook.Path, "order_id=12&tag=a&tag=b&note=x%20y", "application/x-www-form-urlencoded"),
                JsonNode.Parse("""{ "order_id": "12", "tag": ["a", "b"], "note": "x y" }""")!),
            ("an empty body", Request(hook.Path, ""), new JsonObject()),
            ("a JSON array", Request(hook.Path, "[1, 2]"), JsonNode.Parse("[1, 2]")!),
            ("JSON with a charset", Request(hook.Path, """{ "order_id": 3 }""", "application/json; charset=utf-8"), JsonNode.Parse("""{ "order_id": 3 }""")!),
            ("XML", Request(hook.Path, """<order id="1"/>""", "application/xml"), JsonValue.Create("""<order id="1"/>""")),
            ("binary octets", Raw(binary, "application/octet-stream"), JsonValue.Create(Convert.ToBase64String(binary))),
            ("text without a content type", Raw(Encoding.UTF8.GetBytes("plain words"), null), JsonValue.Create("plain words")),
        };
        var problems = new List<string>();
        foreach (var (what, request, expected) in cases)
        {
            var response = await SendAsync(anonymous, request);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                problems.Add($"{what}: expected 202, got {(int)response.StatusCode} {text}");
                continue;
            }

            var input = (await CompletedAsync(client, Str(JsonNode.Parse(text)!["execution_id"])))["trigger_data"];
            if (!JsonNode.DeepEquals(expected, input)) problems.Add($"{what}: trigger input {input?.ToJsonString()}, expected {expected.ToJsonString()}");
        }

        var rows = await LogRowsOrWhatIsThereAsync(client, hook.Id, cases.Length + 2);
        var binaryRow = rows.FirstOrDefault(r => r["body_bytes"]!.GetValue<long>() == binary.Length);
        if (binaryRow is null || StrOrNull(binaryRow["body_encoding"]) != "base64" || StrOrNull(binaryRow["body"]) != Convert.ToBase64String(binary))
            problems.Add($"the binary body's log row: {binaryRow?.ToJsonString() ?? "missing"}");
        if (rows.Count != cases.Length + 2) problems.Add($"the log holds {rows.Count} rows for {cases.Length + 2} requests");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Given_response_format_text_When_accepted_Then_202_text_plain_names_the_execution_and_refusals_stay_problem_json()
    {
        var (_, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var hook = await CreateWebhookAsync(client, await WorkflowAsync(client), """{ "response_format": "text", "auth_type": "bearer" }""");
        var request = Request(hook.Path, """{ "order_id": 13 }""");
        request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {hook.Secret}");

        var response = await SendAsync(anonymous, request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {text}");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("Workflow execution started: exec_", text, StringComparison.Ordinal);
        var executionId = text["Workflow execution started: ".Length..].Trim();
        Assert.Equal(13, (await CompletedAsync(client, executionId))["trigger_data"]!["order_id"]!.GetValue<int>());
        await RefusedAsync(await SendAsync(anonymous, Request(hook.Path)), 401, "missing_token");
    }

    // ---------------------------------------------------------------- the request log

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_accepted_and_refused_requests_When_the_webhook_log_is_read_Then_each_is_there_newest_first_redacted_and_filters_and_paging_work(
        StoreKind kind)
    {
        var (_, client, anonymous) = await SetUpAsync(kind);
        var hook = await CreateWebhookAsync(client, await WorkflowAsync(client), """{ "auth_type": "api_key", "api_key_header": "X-Hook-Key" }""");
        var key = hook.Secret!;
        const string body = """{ "order_id": 77, "text": "hello" }""";
        HttpRequestMessage Make(string? apiKey, string query = "", HttpMethod? method = null)
        {
            var request = Request(hook.Path + query, method == HttpMethod.Get ? null : body, method: method);
            if (apiKey is not null) request.Headers.TryAddWithoutValidation("X-Hook-Key", apiKey);
            request.Headers.TryAddWithoutValidation("User-Agent", "webhook-tests/1.0");
            request.Headers.TryAddWithoutValidation("Cookie", "session=cookie-secret-123");
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer auth-secret-456");
            request.Headers.TryAddWithoutValidation("X-Trace", "visible");
            return request;
        }

        var accepted = await AcceptedAsync(await SendAsync(anonymous,
            Make(key, "?source=crm&token=query-token-1&client_secret=query-secret-2&signature=query-sig-3&key=query-key-4&access_token=query-at-5")));
        await RefusedAsync(await SendAsync(anonymous, Make(key + "x")), 401, "bad_api_key");
        await RefusedAsync(await SendAsync(anonymous, Make(null)), 401, "missing_api_key");
        await RefusedAsync(await SendAsync(anonymous, Make(key, method: HttpMethod.Get)), 405, "method_not_allowed");

        var rows = await LogRowsAsync(client, hook.Id, 4);
        var page = await LogsAsync(client, hook.Id, "limit=200");
        Assert.Equal(4, rows.Count);
        Assert.Equal(new int[] { 405, 401, 401, 202 }, rows.Select(r => r["status"]!.GetValue<int>()));
        Assert.Equal(new[] { "method_not_allowed", "missing_api_key", "bad_api_key", null }, rows.Select(r => StrOrNull(r["reason"])));
        Assert.True(rows.Select(r => Time(r["received_at"])).SequenceEqual(rows.Select(r => Time(r["received_at"])).OrderDescending()), "newest first");
        Assert.Equal(4, rows.Select(r => Str(r["request_id"])).Distinct().Count());

        var ok = rows[3];
        Assert.Equal(Str(accepted["request_id"]), Str(ok["request_id"]));
        Assert.Equal(Str(accepted["execution_id"]), StrOrNull(ok["execution_id"]));
        Assert.Equal("POST", Str(ok["method"]));
        Assert.Equal(hook.Path, Str(ok["path"]));
        Assert.Equal(body, StrOrNull(ok["body"]));
        Assert.Equal("utf8", Str(ok["body_encoding"]));
        Assert.Equal(Encoding.UTF8.GetByteCount(body), ok["body_bytes"]!.GetValue<long>());
        Assert.False(ok["body_truncated"]!.GetValue<bool>());
        Assert.Equal("webhook-tests/1.0", StrOrNull(ok["user_agent"]));
        Assert.True(ok["duration_ms"]!.GetValue<double>() >= 0, ok.ToJsonString());
        var query = ok["query"]!.AsObject();
        Assert.Equal("crm", StrOrNull(query["source"]));
        // Checked last (below), so that one unredacted name does not hide the rest of the log's behaviour.
        var unredacted = new[] { "token", "client_secret", "signature", "key", "access_token" }.Where(n => StrOrNull(query[n]) != Redacted).ToList();
        foreach (var row in rows)
        {
            var headers = row["headers"]!.AsObject();
            Assert.All(headers.Select(h => h.Key), n => Assert.Equal(n.ToLowerInvariant(), n));
            Assert.Equal("visible", StrOrNull(headers["x-trace"]));
            foreach (var name in new[] { "cookie", "authorization" }.Concat(row == rows[1] ? [] : new[] { "x-hook-key" }))
                Assert.True(StrOrNull(headers[name]) == Redacted, $"header '{name}' is redacted in row {row["request_id"]}: {headers.ToJsonString()}");
        }

        var text = page.ToJsonString();
        var leaked = new[] { key, key + "x", "cookie-secret-123", "auth-secret-456", "query-token-1", "query-secret-2", "query-sig-3", "query-key-4", "query-at-5" }
            .Where(secret => text.Contains(secret, StringComparison.Ordinal)).ToList();

        // Filters: status; time range (from inclusive, to exclusive).
        var unauthorized = (await LogsAsync(client, hook.Id, "status=401"))["items"]!.AsArray();
        Assert.Equal(2, unauthorized.Count);
        Assert.All(unauthorized, r => Assert.Equal(401, r!["status"]!.GetValue<int>()));
        Assert.Empty((await LogsAsync(client, hook.Id, "status=500"))["items"]!.AsArray());
        string At(JsonObject row) => Uri.EscapeDataString(Str(row["received_at"]));
        Assert.Equal(4, (await LogsAsync(client, hook.Id, $"from={At(rows[3])}"))["items"]!.AsArray().Count);
        Assert.Empty((await LogsAsync(client, hook.Id, $"to={At(rows[3])}"))["items"]!.AsArray());
        Assert.Single((await LogsAsync(client, hook.Id, $"from={At(rows[0])}"))["items"]!.AsArray());

        // Paging: one row a page, every row once, in order; the last page has no cursor.
        var paged = new List<string>();
        string? cursor = null;
        for (var i = 0; i < 10; i++)
        {
            var slice = await LogsAsync(client, hook.Id, "limit=1" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"));
            paged.AddRange(slice["items"]!.AsArray().Select(r => Str(r!["request_id"])));
            cursor = StrOrNull(slice["next_cursor"]);
            if (cursor is null) break;
        }

        Assert.Equal(rows.Select(r => Str(r["request_id"])), paged);
        await (await client.GetAsync(Url($"{TriggersRoute}/{hook.Id}/webhook-logs?cursor=garbage!"))).ProblemAsync(400);
        await (await client.GetAsync(Url($"{TriggersRoute}/{hook.Id}/webhook-logs?limit=0"))).ProblemAsync(400);

        Assert.True(unredacted.Count == 0, $"query parameters not redacted in the log: {string.Join(", ", unredacted)} in {query.ToJsonString()}");
        Assert.True(leaked.Count == 0, $"the log API answer holds: {string.Join(", ", leaked)}");
    }

    [Fact]
    public async Task Given_a_webhook_of_acme_dev_When_another_tenant_or_environment_or_a_caller_without_permission_asks_Then_404_or_403_and_nothing_changes()
    {
        var (host, client, anonymous) = await SetUpAsync(StoreKind.Sqlite);
        var hook = await CreateWebhookAsync(client, await WorkflowAsync(client), """{ "auth_type": "bearer" }""");
        var request = Request(hook.Path);
        request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {hook.Secret}");
        await AcceptedAsync(await SendAsync(anonymous, request));
        await LogRowsAsync(client, hook.Id, 1);

        foreach (var outsider in new[] { await ClientAsync(host, "globex", "dev"), await ClientAsync(host, "acme", "staging") })
        {
            await (await outsider.GetAsync(Url($"{TriggersRoute}/{hook.Id}/webhook-logs"))).ProblemAsync(404, "not-found");
            await (await outsider.PostJsonAsync($"{TriggersRoute}/{hook.Id}/rotate-secret", new { overlap_seconds = 0 })).ProblemAsync(404, "not-found");
            await (await outsider.GetAsync(Url($"{TriggersRoute}/{hook.Id}"))).ProblemAsync(404, "not-found");
        }

        var reader = await host.ClientAsync("acme", "dev", Permissions.EventsWrite);
        await (await reader.GetAsync(Url($"{TriggersRoute}/{hook.Id}/webhook-logs"))).ProblemAsync(403);
        var readOnly = await host.ClientAsync("acme", "dev", Permissions.WorkflowsRead);
        Assert.Equal(HttpStatusCode.OK, (await readOnly.GetAsync(Url($"{TriggersRoute}/{hook.Id}/webhook-logs"))).StatusCode);
        await (await readOnly.PostJsonAsync($"{TriggersRoute}/{hook.Id}/rotate-secret", new { overlap_seconds = 0 })).ProblemAsync(403);
        await (await anonymous.GetAsync(Url($"{TriggersRoute}/{hook.Id}/webhook-logs"))).ProblemAsync(401);
        await (await anonymous.PostJsonAsync($"{TriggersRoute}/{hook.Id}/rotate-secret", new { overlap_seconds = 0 })).ProblemAsync(401);

        // None of those rotations happened: the original token still verifies.
        var again = Request(hook.Path);
        again.Headers.TryAddWithoutValidation("Authorization", $"Bearer {hook.Secret}");
        await AcceptedAsync(await SendAsync(anonymous, again));
    }

    // ---------------------------------------------------------------- secrets

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Given_webhooks_of_every_auth_type_used_refused_and_rotated_When_the_log_api_events_tables_and_log_output_are_searched_Then_no_secret_or_signature_appears(
        StoreKind kind)
    {
        var (host, client, anonymous) = await SetUpAsync(kind);
        var workflow = await WorkflowAsync(client);
        var apiKey = await CreateWebhookAsync(client, workflow, """{ "auth_type": "api_key" }""");
        var bearer = await CreateWebhookAsync(client, workflow, """{ "auth_type": "bearer" }""");
        var standard = await CreateWebhookAsync(client, workflow, Standard);
        var github = await CreateWebhookAsync(client, workflow, GitHub);
        var plain = await CreateWebhookAsync(client, workflow, """{ "auth_type": "hmac", "hmac_scheme": "plain" }""");
        const string body = """{ "order_id": 99 }""";
        var secrets = new List<string>();
        var signatures = new List<string>();
        var executions = new List<string>();

        async Task UseAsync(Webhook hook, string secret)
        {
            secrets.Add(secret);
            foreach (var good in new[] { true, false })
            {
                var request = Request(hook.Path, good ? body : body + " ");
                string? signature = null;
                if (hook == apiKey) request.Headers.TryAddWithoutValidation("X-API-Key", good ? secret : secret[..^1]);
                else if (hook == bearer) request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {(good ? secret : secret[..^1])}");
                else if (hook == standard)
                {
                    var id = $"msg_{Guid.NewGuid():N}";
                    var ts = Now().ToString(CultureInfo.InvariantCulture);
                    signature = StandardSignature(secret, id, ts, body); // signs the good body: the bad request's body differs
                    request.Headers.TryAddWithoutValidation("webhook-id", id);
                    request.Headers.TryAddWithoutValidation("webhook-timestamp", ts);
                    request.Headers.TryAddWithoutValidation("webhook-signature", signature);
                    signature = signature[3..];
                }
                else
                {
                    signature = HexSignature(secret, body);
                    request.Headers.TryAddWithoutValidation(hook == github ? "X-Hub-Signature-256" : "X-Signature", signature);
                    signature = signature["sha256=".Length..];
                }

                if (signature is not null) signatures.Add(signature);
                var response = await SendAsync(anonymous, request);
                if (good) executions.Add(Str((await AcceptedAsync(response))["execution_id"]));
                else Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            }
        }

        foreach (var hook in new[] { apiKey, bearer, standard, github, plain })
        {
            await UseAsync(hook, hook.Secret!);
            await UseAsync(hook, Str((await RotateAsync(client, hook.Id, new { overlap_seconds = 0 }))["webhook_secret"]));
        }

        foreach (var id in executions) await CompletedAsync(client, id);
        var logApi = new StringBuilder();
        foreach (var hook in new[] { apiKey, bearer, standard, github, plain })
        {
            await LogRowsAsync(client, hook.Id, 4);
            logApi.Append((await LogsAsync(client, hook.Id, "limit=200")).ToJsonString());
            logApi.Append((await GetJsonAsync(client, $"{TriggersRoute}/{hook.Id}")).ToJsonString());
        }

        logApi.Append((await GetJsonAsync(client, $"{TriggersRoute}?workflow_id={workflow}")).ToJsonString());
        foreach (var id in executions) logApi.Append((await GetAsync(client, id)).ToJsonString()).Append((await HistoryAsync(client, id)).ToJsonString());

        var events = await AllEventsAsync(host);
        var rows = await AllRowsAsync(host, "triggers_webhook_secrets", "triggers.webhook_secrets");
        Assert.Contains(rows.Keys, t => t.Contains("webhook_requests", StringComparison.Ordinal)); // the search did read the request log
        var logText = hosts.Sink(kind).AsJson();
        Assert.Contains(apiKey.Id, logText, StringComparison.Ordinal); // the log output did capture the requests
        // The secret's body (without its whsec_/whk_ prefix) and every computed signature value must be nowhere.
        foreach (var needle in secrets.Select(s => s.StartsWith("whsec_", StringComparison.Ordinal) ? s["whsec_".Length..] : s).Concat(signatures))
        {
            Assert.False(logApi.ToString().Contains(needle, StringComparison.Ordinal), $"an API answer after the first holds '{needle}'");
            Assert.False(events.Any(e => e.Contains(needle, StringComparison.Ordinal)),
                $"an event holds '{needle}': {events.FirstOrDefault(e => e.Contains(needle, StringComparison.Ordinal))}");
            foreach (var (table, content) in rows)
                Assert.False(content.Any(r => r.Contains(needle, StringComparison.Ordinal)), $"table {table} holds '{needle}'");
            Assert.False(logText.Contains(needle, StringComparison.Ordinal), $"the log output holds '{needle}'");
        }
    }

    [Fact]
    public async Task Given_a_webhook_created_with_an_Idempotency_Key_and_rotated_When_it_is_deleted_Then_its_secrets_are_nowhere_in_the_store()
    {
        var (host, client, _) = await SetUpAsync(StoreKind.Sqlite);
        var hook = await CreateWebhookAsync(client, await WorkflowAsync(client), """{ "auth_type": "bearer" }""", idempotencyKey: $"create-{Guid.NewGuid():N}");
        var rotated = Str((await RotateAsync(client, hook.Id, new { overlap_seconds = 0 }))["webhook_secret"]);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(Url($"{TriggersRoute}/{hook.Id}"))).StatusCode);
        var rows = await AllRowsAsync(host);
        foreach (var secret in new[] { hook.Secret!, rotated })
            foreach (var (table, content) in rows)
                Assert.False(content.Any(r => r.Contains(secret, StringComparison.Ordinal)),
                    $"table {table} still holds a secret of the deleted trigger {hook.Id}");
    }
}
