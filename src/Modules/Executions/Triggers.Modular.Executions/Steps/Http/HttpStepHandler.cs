using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Executions.Contracts.Steps.BuiltIn;

namespace Triggers.Modular.Executions.Steps.Http;

/// <summary>
/// Runs <c>http</c> steps: renders the URL, headers and body, sends the request through one long-lived client whose every
/// connection is checked by the <see cref="GuardedConnector"/>, follows redirects itself (each hop through the same guard),
/// and turns the response into an output or a failure (retryable for 5xx, 429, 408, timeouts and network errors).
/// </summary>
internal sealed class HttpStepHandler : IStepHandler, IDisposable
{
    private const int ExcerptChars = 1024;

    private readonly HttpStepOptions _options;
    private readonly HttpClient _client;

    public HttpStepHandler(IOptions<HttpStepOptions> options)
        : this(options, resolve: null)
    {
    }

    internal HttpStepHandler(IOptions<HttpStepOptions> options, HostResolver? resolve)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        var connector = new GuardedConnector(new AddressPolicy(_options.AllowedNetworks), resolve);
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            // A proxy would be the one connecting, out of the guard's reach; the step always connects directly.
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.All,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = connector.ConnectAsync,
        };
        _client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public string StepType => HttpStepType.TypeName;

    public async ValueTask<StepOutcome> ExecuteAsync(StepExecutionContext step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        var (request, failure) = HttpStepRequest.Build(step, _options);
        if (failure is not null)
            return failure;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(request!.TimeoutSeconds));
        var target = $"{request.Method} {HttpStepRequest.Show(request.Url)}";
        try
        {
            return await SendAsync(request, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw; // the execution was cancelled (or the runtime's own step timeout ran out): not this step's failure
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is HttpRequestException or IOException)
        {
            throw new OperationCanceledException(ex.Message, ex, cancellationToken);
        }
        catch (Exception ex) when (timeout.IsCancellationRequested && ex is OperationCanceledException or HttpRequestException or IOException)
        {
            return Retry("timeout", string.Create(CultureInfo.InvariantCulture,
                $"{target} did not answer within {request.TimeoutSeconds} s."));
        }
        catch (HttpRequestException ex) when (Refusal(ex) is { } refused)
        {
            return Refuse("address_refused", refused.Message);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return Retry("network_error", $"{target} failed: {ex.Message}");
        }
    }

    public void Dispose() => _client.Dispose();

    private async Task<StepOutcome> SendAsync(HttpStepRequest request, CancellationToken cancellationToken)
    {
        var method = request.Method;
        var url = request.Url;
        var body = request.Body;
        IEnumerable<KeyValuePair<string, string>> headers = request.Headers;
        for (var hop = 0; ; hop++)
        {
            using var message = Message(method, url, headers, body, request.BodyContentType);
            using var response = await _client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
            {
                if (hop >= _options.MaxRedirects)
                {
                    return Refuse("too_many_redirects", string.Create(CultureInfo.InvariantCulture,
                        $"{request.Method} {HttpStepRequest.Show(request.Url)} redirected more than {_options.MaxRedirects} times."));
                }
                var next = location.IsAbsoluteUri ? location : new Uri(url, location);
                if (next.Scheme != Uri.UriSchemeHttp && next.Scheme != Uri.UriSchemeHttps)
                    return Refuse("invalid_redirect", $"{HttpStepRequest.Show(url)} redirected to a {next.Scheme} URL; only http and https are followed.");
                if (url.Scheme == Uri.UriSchemeHttps && next.Scheme == Uri.UriSchemeHttp)
                    return Refuse("invalid_redirect", $"{HttpStepRequest.Show(url)} redirected from https to http ({HttpStepRequest.Show(next)}); that is not followed.");
                if ((status == 303 && method != HttpMethod.Head) || (status is 301 or 302 && method == HttpMethod.Post))
                {
                    method = HttpMethod.Get;
                    body = null;
                }
                if (!SameOrigin(url, next))
                    headers = headers.Where(h => !IsCredential(h.Key)).ToList();
                url = next;
                continue;
            }
            return await OutcomeAsync(request, method, url, response, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<StepOutcome> OutcomeAsync(HttpStepRequest request, HttpMethod method, Uri url, HttpResponseMessage response,
        CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var expected = request.IsExpected(status);
        // A HEAD response's Content-Length describes the body a GET would get; it has none itself.
        var read = await HttpResponseReader.ReadAsync(response.Content, _options.MaxResponseBytes, trustLength: method != HttpMethod.Head,
            cancellationToken).ConfigureAwait(false);
        if (expected)
        {
            if (read.TooLarge)
            {
                return Refuse("response_too_large", string.Create(CultureInfo.InvariantCulture,
                    $"{method} {HttpStepRequest.Show(url)} answered {status} with a body larger than {_options.MaxResponseBytes} bytes "
                    + $"({HttpStepOptions.SectionName}:{nameof(HttpStepOptions.MaxResponseBytes)})."));
            }
            return new StepOutcome.Completed(HttpResponseReader.Output(response, read.Bytes));
        }

        var retryable = status is >= 500 or 429 or 408;
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{method} {HttpStepRequest.Show(url)} answered HTTP {status} ({response.ReasonPhrase}); expected {request.ExpectedText}.");
        if (response.Headers.RetryAfter is { } retryAfter && retryable)
            text += $" Retry-After: {retryAfter}.";
        return new StepOutcome.Failed("http_status", text, retryable, Details(status, HttpResponseReader.Excerpt(response, read.Bytes, ExcerptChars)));
    }

    private static HttpRequestMessage Message(HttpMethod method, Uri url, IEnumerable<KeyValuePair<string, string>> headers, byte[]? body,
        string? contentType)
    {
        var message = new HttpRequestMessage(method, url)
        {
            // HTTP/1.1 over connections the guard made; never an upgrade to HTTP/3, whose QUIC connections do not go
            // through ConnectCallback.
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        if (body is not null)
        {
            message.Content = new ByteArrayContent(body);
            if (contentType is not null)
                message.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        foreach (var (name, value) in headers)
        {
            if (!message.Headers.TryAddWithoutValidation(name, value))
                message.Content?.Headers.TryAddWithoutValidation(name, value); // a content header such as Content-Language
        }
        return message;
    }

    private static bool SameOrigin(Uri a, Uri b) =>
        a.Scheme == b.Scheme && a.Port == b.Port && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase);

    // Credentials configured for one origin are not handed to another that a redirect names.
    private static bool IsCredential(string name) =>
        name.Equals("Authorization", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Cookie", StringComparison.OrdinalIgnoreCase);

    private static AddressRefusedException? Refusal(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is AddressRefusedException refused)
                return refused;
        }
        return null;
    }

    private static StepOutcome.Failed Retry(string code, string message) => new(code, message, Retryable: true);

    private static StepOutcome.Failed Refuse(string code, string message) => new(code, message, Retryable: false);

    private static JsonElement Details(int status, string body) =>
        JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["status"] = status, ["body"] = body });
}
