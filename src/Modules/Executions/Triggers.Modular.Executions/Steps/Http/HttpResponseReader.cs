using System.Buffers;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Triggers.Modular.Executions.Steps.Http;

/// <summary>A response body read up to a cap; <see cref="TooLarge"/> when the body went past it (then <see cref="Bytes"/>
/// holds only what was read).</summary>
internal sealed record CappedBody(byte[] Bytes, bool TooLarge);

/// <summary>Reads a response body without buffering more than the cap, and turns a response into the step's output.</summary>
internal static class HttpResponseReader
{
    private const int ChunkSize = 16 * 1024;

    /// <summary>Reads at most <paramref name="cap"/> + 1 bytes: one byte more than allowed is proof enough.</summary>
    public static async Task<CappedBody> ReadAsync(HttpContent content, int cap, bool trustLength, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (trustLength && content.Headers.ContentLength is { } length && length > cap)
            return new CappedBody([], TooLarge: true);

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
            try
            {
                long total = 0;
                while (true)
                {
                    var want = (int)Math.Min(chunk.Length, (long)cap + 1 - total);
                    var read = await stream.ReadAsync(chunk.AsMemory(0, want), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                        return new CappedBody(buffer.ToArray(), TooLarge: false);
                    total += read;
                    if (total > cap)
                    {
                        buffer.Write(chunk, 0, read - (int)(total - cap));
                        return new CappedBody(buffer.ToArray(), TooLarge: true);
                    }
                    buffer.Write(chunk, 0, read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
        }
    }

    /// <summary><c>{ "status": 200, "headers": { "content-type": "…", … }, "body": … }</c>; the body is JSON when the response
    /// says it is JSON and it parses, else a string.</summary>
    public static JsonElement Output(HttpResponseMessage response, byte[] body)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(body);
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            writer.WriteNumber("status", (int)response.StatusCode);
            writer.WriteStartObject("headers");
            foreach (var (name, value) in Headers(response))
                writer.WriteString(name, value);
            writer.WriteEndObject();
            writer.WritePropertyName("body");
            WriteBody(writer, response.Content.Headers.ContentType, body);
            writer.WriteEndObject();
        }
        using var document = JsonDocument.Parse(output.WrittenMemory);
        return document.RootElement.Clone();
    }

    /// <summary>The body as text, for messages; at most <paramref name="maxChars"/> characters.</summary>
    public static string Excerpt(HttpResponseMessage response, byte[] body, int maxChars)
    {
        ArgumentNullException.ThrowIfNull(response);
        var text = Decode(response.Content.Headers.ContentType, body);
        return text.Length <= maxChars ? text : text[..maxChars] + "…";
    }

    private static void WriteBody(Utf8JsonWriter writer, MediaTypeHeaderValue? contentType, byte[] body)
    {
        if (body.Length > 0 && IsJson(contentType))
        {
            try
            {
                using var json = JsonDocument.Parse(body);
                json.RootElement.WriteTo(writer);
                return;
            }
            catch (JsonException)
            {
                // Says JSON, is not: fall through to the text.
            }
        }
        writer.WriteStringValue(Decode(contentType, body));
    }

    private static bool IsJson(MediaTypeHeaderValue? contentType) =>
        contentType?.MediaType is { } media
        && (media.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    private static string Decode(MediaTypeHeaderValue? contentType, byte[] body)
    {
        var encoding = Encoding.UTF8;
        if (contentType?.CharSet is { Length: > 0 } charset)
        {
            try
            {
                encoding = Encoding.GetEncoding(charset.Trim('"'));
            }
            catch (ArgumentException)
            {
                // Unknown charset: UTF-8 is the best guess.
            }
        }
        return encoding.GetString(body);
    }

    /// <summary>Response and content headers, names lower-cased, repeated values joined with ", ".</summary>
    private static IEnumerable<KeyValuePair<string, string>> Headers(HttpResponseMessage response)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var header in response.Headers.NonValidated.Concat(response.Content.Headers.NonValidated))
        {
#pragma warning disable CA1308 // HTTP header names are ASCII and the output promises lower case.
            var name = header.Key.ToLowerInvariant();
#pragma warning restore CA1308
            var value = string.Join(", ", header.Value);
            headers[name] = headers.TryGetValue(name, out var earlier) ? $"{earlier}, {value}" : value;
        }
        return headers;
    }
}
