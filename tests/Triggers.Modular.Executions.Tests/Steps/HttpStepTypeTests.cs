using Triggers.Modular.Executions.Contracts.Steps.BuiltIn;

namespace Triggers.Modular.Executions.Tests.Steps;

public sealed class HttpStepTypeTests
{
    private readonly HttpStepType _http = new();

    [Theory]
    [InlineData("""{ "url": "https://billing.example.com/plans" }""")]
    [InlineData("""{ "method": "POST", "url": "https://billing.example.com/plans", "body": { "customer": "{{ trigger.customer_id }}", "items": [1, "{{ trigger.plan | upcase }}", null] } }""")]
    [InlineData("""{ "method": "DELETE", "url": "http://localhost:8080/customers/{{ trigger.customer_id }}", "timeout_seconds": 300, "expected_status": [200, 204] }""")]
    [InlineData("""{ "url": "{{ trigger.callback_url }}", "headers": { "Authorization": "Bearer {{ trigger.token }}", "X-Request-Id": "abc" } }""")]
    [InlineData("""{ "method": "HEAD", "url": "https://{{ trigger.host }}/health", "timeout_seconds": 1, "body": "{% if trigger.x %}a{% endif %}" }""")]
    public void Given_a_valid_config_When_validated_Then_there_are_no_errors(string json) => Config.Valid(_http, json);

    [Fact]
    public void Given_an_unsupported_method_When_validated_Then_method_lists_the_allowed_ones()
    {
        var error = Config.Single(_http, """{ "method": "FETCH", "url": "https://example.com" }""");

        Assert.Equal("method", error.Path);
        Assert.Contains("GET, POST, PUT, PATCH, DELETE, HEAD", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"FETCH\"", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/plans")]
    [InlineData("billing.example.com/plans")]
    [InlineData("ftp://example.com/file")]
    [InlineData("/plans/{{ trigger.id }}")]
    [InlineData("ftp://{{ trigger.host }}/file")]
    public void Given_a_url_that_is_not_absolute_http_When_validated_Then_url_asks_for_an_absolute_http_url(string url)
    {
        var error = Config.Single(_http, $$"""{ "url": "{{url}}" }""");

        Assert.Equal("url", error.Path);
        Assert.Contains("http", error.Message, StringComparison.Ordinal);
        Assert.Contains(url, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_no_url_When_validated_Then_url_is_required()
    {
        var error = Config.Single(_http, """{ "method": "GET" }""");

        Assert.Equal("url", error.Path);
        Assert.Contains("required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_a_url_template_that_does_not_parse_When_validated_Then_url_reports_the_parser_error()
    {
        var error = Config.Single(_http, """{ "url": "https://example.com/{{ trigger.id | }}" }""");

        Assert.Equal("url", error.Path);
        Assert.StartsWith("The Liquid template does not parse: ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X Api Key", "headers[\"X Api Key\"]")]
    [InlineData("X-Key:", "headers[\"X-Key:\"]")]
    [InlineData("Bad(Name)", "headers[\"Bad(Name)\"]")]
    public void Given_an_invalid_header_name_When_validated_Then_the_header_path_names_it(string name, string path)
    {
        var error = Config.Single(_http, $$"""{ "url": "https://example.com", "headers": { "{{name}}": "v" } }""");

        Assert.Equal(path, error.Path);
        Assert.Contains("not a valid HTTP header name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_a_header_value_that_is_not_a_string_When_validated_Then_the_header_path_says_so()
    {
        var error = Config.Single(_http, """{ "url": "https://example.com", "headers": { "X-Count": 3 } }""");

        Assert.Equal("headers.X-Count", error.Path);
        Assert.Contains("must be a string", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_a_template_syntax_error_in_a_body_array_item_When_validated_Then_the_path_is_body_items_1()
    {
        var error = Config.Single(_http, """
            { "url": "https://example.com", "method": "POST",
              "body": { "customer": "{{ trigger.customer_id }}", "items": ["ok", "{{ trigger.plan | }}", "{{ fine }}"] } }
            """);

        Assert.Equal("body.items[1]", error.Path);
        Assert.StartsWith("The Liquid template does not parse: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("(1:", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Given_an_unclosed_tag_in_the_body_When_validated_Then_the_path_is_body_customer()
    {
        var error = Config.Single(_http, """{ "url": "https://example.com", "body": { "customer": "{% if trigger.vip %}VIP" } }""");

        Assert.Equal("body.customer", error.Path);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("301")]
    [InlineData("1.5")]
    [InlineData("\"30\"")]
    public void Given_a_timeout_out_of_bounds_When_validated_Then_timeout_seconds_states_the_range(string timeout)
    {
        var error = Config.Single(_http, $$"""{ "url": "https://example.com", "timeout_seconds": {{timeout}} }""");

        Assert.Equal("timeout_seconds", error.Path);
        Assert.Contains("from 1 to 300", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_an_expected_status_out_of_range_When_validated_Then_the_path_names_the_item()
    {
        var error = Config.Single(_http, """{ "url": "https://example.com", "expected_status": [200, 99, 201] }""");

        Assert.Equal("expected_status[1]", error.Path);
        Assert.Contains("100 to 599", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_an_unknown_key_When_validated_Then_the_error_names_the_key()
    {
        var error = Config.Single(_http, """{ "url": "https://example.com", "timeout": 30 }""");

        Assert.Equal("timeout", error.Path);
        Assert.Contains("Unknown key \"timeout\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("timeout_seconds", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"https://example.com\"", "a string")]
    [InlineData("[]", "an array")]
    [InlineData("null", "null")]
    public void Given_a_config_that_is_not_an_object_When_validated_Then_the_empty_path_says_an_object_is_expected(string json, string got)
    {
        var error = Config.Single(_http, json);

        Assert.Equal("", error.Path);
        Assert.Contains("config object", error.Message, StringComparison.Ordinal);
        Assert.Contains(got, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_no_config_When_validated_Then_the_empty_path_says_an_object_with_url_is_expected()
    {
        var error = Assert.Single(_http.Validate(Config.Missing));

        Assert.Equal("", error.Path);
        Assert.Contains("\"url\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_several_mistakes_When_validated_Then_each_is_reported_once()
    {
        var errors = _http.Validate(Config.Parse("""{ "method": "get", "url": "/x", "timeout_seconds": 0, "extra": true }"""));

        Assert.Equal(["extra", "method", "timeout_seconds", "url"], errors.Select(e => e.Path).Order(StringComparer.Ordinal));
    }
}
