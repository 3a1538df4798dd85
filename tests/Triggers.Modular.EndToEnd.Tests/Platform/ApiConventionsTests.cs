using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.EndToEnd.Tests.Support;
using static Triggers.Modular.EndToEnd.Tests.Support.Http;

namespace Triggers.Modular.EndToEnd.Tests.Platform;

/// <summary>Bad input gets the right 4xx problem+json and stores nothing; failures never leak internals.</summary>
public sealed class ApiConventionsTests : IAsyncLifetime
{
    private ApiHost _host = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _host = await ApiHost.StartAsync(services: s => s.AddSingleton<IStartupFilter, ThrowingRouteFilter>());
        _admin = await _host.ClientAsync("acme", "dev", Permissions.Admin);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<long> EventCountAsync() => _host.RawEventCountAsync();

    private Task<HttpResponseMessage> PostRawAsync(string body, string contentType = "application/json") =>
        _admin.PostAsync(Url("/api/v1/environments"), new StringContent(body, Encoding.UTF8, contentType));

    [Theory]
    [InlineData("{\"name\": \"qa\"", "body")]
    [InlineData("{\"name\": 42}", "name")]
    [InlineData("[1, 2]", "body")]
    [InlineData("not json at all", "body")]
    public async Task Given_malformed_json_When_posted_Then_400_with_a_field_error_and_nothing_stored(string body, string field)
    {
        var before = await EventCountAsync();
        var problem = await (await PostRawAsync(body)).ProblemAsync(400, "malformed-json");
        Assert.NotNull(problem["errors"]![field]);
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Given_an_empty_body_When_posted_Then_400_problem()
    {
        var before = await EventCountAsync();
        var problem = await (await PostRawAsync("")).ProblemAsync(400, "malformed-json");
        Assert.NotNull(problem["errors"]!["body"]);
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Given_a_field_that_breaks_a_rule_When_posted_Then_400_naming_the_field_in_snake_case()
    {
        var problem = await (await PostRawAsync("{\"name\": \"Has Spaces\"}")).ProblemAsync(400, "validation-error");
        Assert.NotEmpty(problem["errors"]!["name"]!.AsArray());
    }

    [Fact]
    public async Task Given_10000_deep_nesting_When_posted_Then_400_about_the_depth_and_nothing_stored()
    {
        var before = await EventCountAsync();
        var body = "{\"name\": " + new string('[', 10_000) + new string(']', 10_000) + "}";
        var problem = await (await PostRawAsync(body)).ProblemAsync(400);
        Assert.Contains("deeper", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Given_the_wrong_content_type_When_posted_Then_415()
    {
        var before = await EventCountAsync();
        await (await PostRawAsync("name=qa", "application/x-www-form-urlencoded")).ProblemAsync(415, "unsupported-media-type");
        await (await PostRawAsync("{\"name\": \"qa\"}", "text/plain")).ProblemAsync(415, "unsupported-media-type");
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Given_a_body_over_the_limit_When_posted_with_or_without_content_length_Then_413()
    {
        var before = await EventCountAsync();
        var big = "{\"name\": \"" + new string('x', 1_100_000) + "\"}";
        await (await PostRawAsync(big)).ProblemAsync(413, "body-too-large");

        var chunked = new HttpRequestMessage(HttpMethod.Post, Url("/api/v1/environments"))
        {
            Content = new StreamContent(new NoLengthStream(Encoding.UTF8.GetBytes(big))),
        };
        chunked.Content.Headers.ContentType = new("application/json");
        await (await _admin.SendAsync(chunked)).ProblemAsync(413, "body-too-large");
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Given_an_unknown_route_When_called_Then_404_problem()
    {
        await (await _host.Anonymous().GetAsync(Url("/api/v1/does-not-exist"))).ProblemAsync(404, "not-found");
        await (await _admin.GetAsync(Url("/api/v1/does-not-exist"))).ProblemAsync(404, "not-found");
    }

    [Fact]
    public async Task Given_a_wrong_method_When_called_Then_405_problem_with_allow()
    {
        var response = await _admin.PutAsync(Url("/api/v1/me"), new StringContent("{}", Encoding.UTF8, "application/json"));
        await response.ProblemAsync(405, "method-not-allowed");
        Assert.Contains("GET", response.Content.Headers.Allow);
    }

    [Fact]
    public async Task Given_an_unhandled_exception_When_it_escapes_Then_500_problem_with_a_trace_id_and_no_stack_trace()
    {
        var response = await _host.Anonymous().GetAsync(Url(ThrowingRouteFilter.Path));
        var problem = await response.ProblemAsync(500, "internal-error");
        Assert.False(string.IsNullOrEmpty(problem["trace_id"]?.GetValue<string>()));
        var text = problem.ToJsonString();
        Assert.DoesNotContain(ThrowingRouteFilter.Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Given_a_correlation_id_When_sent_Then_it_is_echoed_and_recorded_in_event_metadata()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Url("/api/v1/environments")) { Content = new StringContent("{\"name\": \"corr\"}", Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Correlation-Id", "corr-123");
        var response = await _admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("corr-123", response.Headers.GetValues("X-Correlation-Id").Single());
        var events = await _host.Services.GetRequiredService<IEventStore>().ReadStreamAsync("tenant-acme", ReadDirection.Backward, long.MaxValue, 1);
        Assert.Equal("corr-123", events.Single().Metadata.CorrelationId);
        Assert.StartsWith("key:key_", events.Single().Metadata.Actor, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, int, string> NonJsonAcceptCases() => new()
    {
        { "text/html", "/api/v1/keys/key_01JD0000000000000000000000", 404, "not-found" },
        { "application/xml", "/api/v1/keys/key_01JD0000000000000000000000", 404, "not-found" },
        { "text/html", "/api/v1/does-not-exist", 404, "not-found" },
        { "text/html", ThrowingRouteFilter.Path, 500, "internal-error" },
    };

    [Theory]
    [MemberData(nameof(NonJsonAcceptCases))]
    public async Task Given_a_client_that_accepts_no_json_When_an_error_happens_Then_it_still_gets_the_problem_json(string accept, string path,
        int status, string type)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, Url(path));
        request.Headers.Accept.ParseAdd(accept);
        var problem = await (await _admin.SendAsync(request)).ProblemAsync(status, type);
        Assert.DoesNotContain("tmk_", problem.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Given_an_invalid_field_and_a_client_that_accepts_html_When_posted_Then_400_problem_with_the_field()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Url("/api/v1/environments")) { Content = new StringContent("{\"name\": \"Bad Name\"}", Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("text/html");
        var problem = await (await _admin.SendAsync(request)).ProblemAsync(400, "validation-error");
        Assert.NotNull(problem["errors"]!["name"]);
    }

    [Fact]
    public async Task Given_a_bad_idempotency_key_on_an_unknown_route_or_without_credentials_Then_404_or_401_come_first()
    {
        var unknown = new HttpRequestMessage(HttpMethod.Post, Url("/api/v1/nothing")) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        unknown.Headers.Add("Idempotency-Key", "a b");
        await (await _admin.SendAsync(unknown)).ProblemAsync(404, "not-found");

        var anonymous = new HttpRequestMessage(HttpMethod.Post, Url("/api/v1/environments")) { Content = new StringContent("{\"name\": \"x\"}", Encoding.UTF8, "application/json") };
        anonymous.Headers.Add("Idempotency-Key", "a b");
        await (await _host.Anonymous().SendAsync(anonymous)).ProblemAsync(401, "unauthenticated");
    }

    [Fact]
    public async Task Given_many_concurrent_writes_to_one_tenant_When_they_collide_Then_each_answers_201_or_409_never_500_and_every_201_was_stored()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => _admin.PostJsonAsync("/api/v1/environments", new { name = $"par{i}" })));

        foreach (var conflict in responses.Where(r => r.StatusCode == HttpStatusCode.Conflict))
            await conflict.ProblemAsync(409, "concurrent-modification");
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        var events = await _host.Services.GetRequiredService<IEventStore>().ReadStreamAsync("tenant-acme", ReadDirection.Forward, 0, 1000);
        Assert.Equal(responses.Count(r => r.StatusCode == HttpStatusCode.Created), events.Count(e => e.Data.Contains("\"par", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Given_two_idempotency_key_headers_When_posted_Then_400_and_nothing_stored()
    {
        var before = await EventCountAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, Url("/api/v1/environments")) { Content = new StringContent("{\"name\": \"twice\"}", Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", ["a", "b"]);
        await (await _admin.SendAsync(request)).ProblemAsync(400, "validation-error");
        Assert.Equal(before, await EventCountAsync());
    }

    /// <summary>Appends, after the whole app pipeline, a terminal middleware that throws for one path.</summary>
    private sealed class ThrowingRouteFilter : IStartupFilter
    {
        public const string Path = "/__test/throw";
        public const string Secret = "connection-string-password-123";

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Use((HttpContext context, RequestDelegate rest) => context.Request.Path == Path
                ? throw new InvalidOperationException($"boom: {Secret}")
                : rest(context));
        };
    }

    /// <summary>A stream that hides its length, so the client sends the body chunked.</summary>
    private sealed class NoLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
