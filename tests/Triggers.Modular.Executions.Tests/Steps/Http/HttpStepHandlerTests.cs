using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using static Triggers.Modular.Executions.Tests.Steps.Http.HttpSteps;

namespace Triggers.Modular.Executions.Tests.Steps.Http;

/// <summary>The http step against a real local server that the allow-list opens (127.0.0.1/32).</summary>
public sealed class HttpStepHandlerTests(LoopbackServers servers) : IClassFixture<LoopbackServers>
{
    private LocalServer Server => servers.V4;

    [Fact]
    public async Task Given_a_JSON_response_When_the_step_runs_Then_the_output_has_status_lower_cased_headers_and_parsed_body()
    {
        using var http = LoopbackAllowed();

        var output = Completed(await http.RunAsync($$"""{ "url": "{{Server.Origin}}/json/{{Tag()}}" }""")).Output;

        Assert.Equal(200, output.GetProperty("status").GetInt32());
        Assert.StartsWith("application/json", output.GetProperty("headers").GetProperty("content-type").GetString(), StringComparison.Ordinal);
        Assert.Equal("a", output.GetProperty("headers").GetProperty("x-custom").GetString());
        Assert.True(output.GetProperty("body").GetProperty("ok").GetBoolean());
        Assert.Equal(2, output.GetProperty("body").GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("text", "hello")]
    [InlineData("broken-json", "{ not json")]
    public async Task Given_a_body_that_is_not_JSON_When_the_step_runs_Then_the_output_body_is_the_text(string action, string text)
    {
        using var http = LoopbackAllowed();

        var output = Completed(await http.RunAsync($$"""{ "url": "{{Server.Origin}}/{{action}}/{{Tag()}}" }""")).Output;

        Assert.Equal(JsonValueKind.String, output.GetProperty("body").ValueKind);
        Assert.Equal(text, output.GetProperty("body").GetString());
    }

    [Fact]
    public async Task Given_expected_status_lists_404_When_the_server_answers_404_Then_the_step_completes()
    {
        using var http = LoopbackAllowed();

        var output = Completed(await http.RunAsync(
            $$"""{ "url": "{{Server.Origin}}/status/404/{{Tag()}}", "expected_status": [404] }""")).Output;

        Assert.Equal(404, output.GetProperty("status").GetInt32());
        Assert.Equal("status 404", output.GetProperty("body").GetString());
    }

    [Fact]
    public async Task Given_expected_status_lists_201_only_When_the_server_answers_200_Then_the_step_fails_without_retry()
    {
        using var http = LoopbackAllowed();

        var failed = Failed(await http.RunAsync($$"""{ "url": "{{Server.Origin}}/json/{{Tag()}}", "expected_status": [201] }"""));

        Assert.Equal("http_status", failed.Code);
        Assert.False(failed.Retryable);
        Assert.Contains("200", failed.Message, StringComparison.Ordinal);
        Assert.Contains("expected 201", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Given_templates_in_url_headers_and_body_When_the_step_runs_Then_the_server_gets_them_rendered_from_the_context()
    {
        using var http = LoopbackAllowed();
        var tag = Tag();
        var context = """{ "trigger": { "order_id": "ord-42", "token": "t0k3n", "qty": 3 } }""";

        Completed(await http.RunAsync($$$"""
            {
              "method": "POST",
              "url": "{{{Server.Origin}}}/echo/{{{tag}}}/{{ trigger.order_id }}",
              "headers": { "Authorization": "Bearer {{ trigger.token }}", "X-Order": "{{ trigger.order_id }}" },
              "body": { "order": "{{ trigger.order_id }}", "lines": [{ "qty": "{{ trigger.qty }}" }, 7, null], "fixed": true }
            }
            """, context));

        var request = Assert.Single(Server.RequestsFor(tag));
        Assert.Equal("POST", request.Method);
        Assert.Equal($"/echo/{tag}/ord-42", request.Path);
        Assert.Equal("Bearer t0k3n", request.Headers["Authorization"]);
        Assert.Equal("ord-42", request.Headers["X-Order"]);
        Assert.Equal("application/json", request.Headers["Content-Type"]);
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal("ord-42", body.RootElement.GetProperty("order").GetString());
        Assert.Equal("3", body.RootElement.GetProperty("lines")[0].GetProperty("qty").ToString());
        Assert.Equal(7, body.RootElement.GetProperty("lines")[1].GetInt32());
        Assert.True(body.RootElement.GetProperty("fixed").GetBoolean());
    }

    [Fact]
    public async Task Given_a_string_body_When_the_step_runs_Then_it_is_sent_as_text()
    {
        using var http = LoopbackAllowed();
        var tag = Tag();

        Completed(await http.RunAsync($$"""{ "method": "PUT", "url": "{{Server.Origin}}/echo/{{tag}}", "body": "plain words" }"""));

        var request = Assert.Single(Server.RequestsFor(tag));
        Assert.Equal("plain words", request.Body);
        Assert.StartsWith("text/plain", request.Headers["Content-Type"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Given_a_content_type_header_When_the_body_is_sent_Then_that_content_type_is_used()
    {
        using var http = LoopbackAllowed();
        var tag = Tag();

        Completed(await http.RunAsync($$"""
            { "method": "POST", "url": "{{Server.Origin}}/echo/{{tag}}", "headers": { "content-type": "text/csv" }, "body": "a,b" }
            """));

        var request = Assert.Single(Server.RequestsFor(tag));
        Assert.Equal("text/csv", request.Headers["Content-Type"]);
        Assert.Equal("a,b", request.Body);
    }

    [Fact]
    public async Task Given_any_step_When_it_runs_Then_the_server_receives_the_idempotency_key_and_the_user_agent()
    {
        using var http = LoopbackAllowed();
        var tag = Tag();

        Completed(await http.RunAsync($$"""{ "url": "{{Server.Origin}}/echo/{{tag}}" }"""));

        var request = Assert.Single(Server.RequestsFor(tag));
        Assert.Equal(IdempotencyKey, request.Headers["Idempotency-Key"]);
        Assert.Equal("Triggers.Modular/1.0", request.Headers["User-Agent"]);
    }

    [Fact]
    public async Task Given_the_config_sets_an_idempotency_key_When_it_runs_Then_that_one_is_sent_alone()
    {
        using var http = LoopbackAllowed();
        var tag = Tag();

        Completed(await http.RunAsync($$"""{ "url": "{{Server.Origin}}/echo/{{tag}}", "headers": { "idempotency-key": "mine" } }"""));

        Assert.Equal("mine", Assert.Single(Server.RequestsFor(tag)).Headers["Idempotency-Key"]);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(429)]
    [InlineData(408)]
    public async Task Given_a_server_error_or_throttling_status_When_the_step_runs_Then_it_fails_retryably(int status)
    {
        using var http = LoopbackAllowed();

        var failed = Failed(await http.RunAsync($$"""{ "url": "{{Server.Origin}}/status/{{status}}/{{Tag()}}" }"""));

        Assert.Equal("http_status", failed.Code);
        Assert.True(failed.Retryable);
        Assert.Contains($"HTTP {status}", failed.Message, StringComparison.Ordinal);
        Assert.Equal(status, failed.Details!.Value.GetProperty("status").GetInt32());
    }

    [Theory]
    [InlineData(404)]
    [InlineData(400)]
    [InlineData(403)]
    [InlineData(304)]
    public async Task Given_an_unexpected_status_that_is_not_transient_When_the_step_runs_Then_it_fails_without_retry(int status)
    {
        using var http = LoopbackAllowed();

        var failed = Failed(await http.RunAsync($$"""{ "url": "{{Server.Origin}}/status/{{status}}/{{Tag()}}" }"""));

        Assert.Equal("http_status", failed.Code);
        Assert.False(failed.Retryable);
        Assert.Contains($"HTTP {status}", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Given_a_server_slower_than_timeout_seconds_When_the_step_runs_Then_it_fails_retryably_with_timeout()
    {
        using var http = LoopbackAllowed();
        var started = Stopwatch.StartNew();

        var failed = Failed(await http.RunAsync($$"""{ "url": "{{Server.Origin}}/slow/{{Tag()}}", "timeout_seconds": 1 }"""));

        Assert.Equal("timeout", failed.Code);
        Assert.True(failed.Retryable);
        Assert.Contains("1 s", failed.Message, StringComparison.Ordinal);
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Given_the_caller_cancels_When_the_step_is_waiting_Then_the_cancellation_propagates()
    {
        using var http = LoopbackAllowed();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            http.RunAsync($$"""{ "url": "{{Server.Origin}}/slow/{{Tag()}}", "timeout_seconds": 30 }""", cancellationToken: cancel.Token));
    }

    [Theory]
    [InlineData("big")]
    [InlineData("chunked")]
    public async Task Given_a_response_body_over_the_cap_When_the_step_runs_Then_it_fails_without_retry(string action)
    {
        using var http = LoopbackAllowed(o => o.MaxResponseBytes = 1024);

        var failed = Failed(await http.RunAsync($$"""{ "url": "{{Server.Origin}}/{{action}}/1025/{{Tag()}}" }"""));

        Assert.Equal("response_too_large", failed.Code);
        Assert.False(failed.Retryable);
        Assert.Contains("1024 bytes", failed.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("big")]
    [InlineData("chunked")]
    public async Task Given_a_response_body_exactly_at_the_cap_When_the_step_runs_Then_it_completes_with_the_whole_body(string action)
    {
        using var http = LoopbackAllowed(o => o.MaxResponseBytes = 1024);

        var output = Completed(await http.RunAsync($$"""{ "url": "{{Server.Origin}}/{{action}}/1024/{{Tag()}}" }""")).Output;

        Assert.Equal(1024, output.GetProperty("body").GetString()!.Length);
    }

    [Fact]
    public async Task Given_a_chain_of_redirects_When_the_step_runs_Then_it_follows_them_to_the_final_answer()
    {
        using var http = LoopbackAllowed();
        var tag = Tag();

        var output = Completed(await http.RunAsync($$"""{ "url": "{{Server.Origin}}/hop/3/{{tag}}" }""")).Output;

        Assert.True(output.GetProperty("body").GetProperty("arrived").GetBoolean());
        Assert.Equal([$"/hop/3/{tag}", $"/hop/2/{tag}", $"/hop/1/{tag}", $"/hop/0/{tag}"], Server.RequestsFor(tag).Select(r => r.Path));
    }

    [Fact]
    public async Task Given_more_redirects_than_allowed_When_the_step_runs_Then_it_fails_without_retry()
    {
        using var http = LoopbackAllowed(o => o.MaxRedirects = 2);
        var tag = Tag();

        var failed = Failed(await http.RunAsync($$"""{ "url": "{{Server.Origin}}/hop/3/{{tag}}" }"""));

        Assert.Equal("too_many_redirects", failed.Code);
        Assert.False(failed.Retryable);
        Assert.Equal(3, Server.RequestsFor(tag).Count);
    }

    [Theory]
    [InlineData(303, "POST", "GET", "")]
    [InlineData(302, "POST", "GET", "")]
    [InlineData(301, "POST", "GET", "")]
    [InlineData(307, "POST", "POST", "{\"n\":1}")]
    [InlineData(308, "PUT", "PUT", "{\"n\":1}")]
    [InlineData(303, "PUT", "GET", "")]
    public async Task Given_a_redirect_after_a_request_with_a_body_When_followed_Then_the_method_and_body_follow_the_status(
        int status, string method, string followedWith, string followedBody)
    {
        using var http = LoopbackAllowed();
        var tag = Tag();
        var target = Uri.EscapeDataString($"/echo/{tag}/target");

        Completed(await http.RunAsync($$"""
            { "method": "{{method}}", "url": "{{Server.Origin}}/redirect/{{status}}/{{tag}}?to={{target}}", "body": { "n": 1 } }
            """));

        var followed = Assert.Single(Server.RequestsFor($"{tag}/target"));
        Assert.Equal(followedWith, followed.Method);
        Assert.Equal(followedBody, followed.Body);
        Assert.Equal(IdempotencyKey, followed.Headers["Idempotency-Key"]);
    }

    [Fact]
    public async Task Given_a_redirect_to_a_non_http_scheme_When_the_step_runs_Then_it_fails_without_retry()
    {
        using var http = LoopbackAllowed();

        var failed = Failed(await http.RunAsync(
            $$"""{ "url": "{{Server.Origin}}/redirect/302/{{Tag()}}?to=file%3A%2F%2F%2Fetc%2Fpasswd" }"""));

        Assert.Equal("invalid_redirect", failed.Code);
        Assert.False(failed.Retryable);
    }

    [Fact]
    public async Task Given_a_closed_port_When_the_step_runs_Then_it_fails_retryably_with_network_error()
    {
        using var http = LoopbackAllowed();
        var port = ClosedPort();

        var failed = Failed(await http.RunAsync($$"""{ "url": "http://127.0.0.1:{{port}}/", "timeout_seconds": 5 }"""));

        Assert.Equal("network_error", failed.Code);
        Assert.True(failed.Retryable);
    }

    [Fact]
    public async Task Given_a_host_name_the_allow_list_names_When_it_resolves_to_loopback_Then_the_step_reaches_it()
    {
        using var http = Handler(o => o.AllowedNetworks.Add("orders.internal.test"),
            resolve: (host, _) => Task.FromResult(host == "orders.internal.test" ? new[] { IPAddress.Loopback } : []));
        var tag = Tag();

        Completed(await http.RunAsync($$"""{ "url": "http://Orders.Internal.Test:{{Server.Port}}/echo/{{tag}}" }"""));

        Assert.Single(Server.RequestsFor(tag));
    }

    [Fact]
    public async Task Given_a_url_that_renders_to_a_non_http_url_When_the_step_runs_Then_it_fails_without_retry()
    {
        using var http = LoopbackAllowed();

        var failed = Failed(await http.RunAsync("""{ "url": "{{ trigger.target }}" }""", """{ "trigger": { "target": "ftp://example.com/x" } }"""));

        Assert.Equal("invalid_url", failed.Code);
        Assert.False(failed.Retryable);
        Assert.Contains("ftp://example.com/x", failed.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "url": "http://127.0.0.1/{{ trigger.id | }}" }""", "url")]
    [InlineData("""{ "url": "http://127.0.0.1/", "headers": { "X-Id": "{% if %}" } }""", "headers.X-Id")]
    [InlineData("""{ "method": "POST", "url": "http://127.0.0.1/", "body": { "a": ["{{ trigger.id | }}"] } }""", "body")]
    public async Task Given_a_template_that_does_not_render_When_the_step_runs_Then_it_fails_without_retry_naming_the_part(string config, string part)
    {
        using var http = LoopbackAllowed();

        var failed = Failed(await http.RunAsync(config, """{ "trigger": { "id": "1" } }"""));

        Assert.Equal("template_error", failed.Code);
        Assert.False(failed.Retryable);
        Assert.StartsWith(part + ": ", failed.Message, StringComparison.Ordinal);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
