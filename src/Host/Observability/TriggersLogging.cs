using System.Globalization;
using Serilog;
using Serilog.Formatting.Compact;

namespace Triggers.Modular.Host.Observability;

/// <summary>
/// Serilog from the <c>Serilog</c> configuration section, written to the console as text (the default) or, with
/// <c>Logging:Format=json</c>, as one compact JSON object per line for a log collector.
/// </summary>
public static class TriggersLogging
{
    public static WebApplicationBuilder ConfigureTriggersLogging(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Read through the container so settings added late (tests, WebApplicationFactory) are seen. The static
        // Log.Logger is left alone: with several hosts in one process (the end-to-end tests) the first one disposed
        // would silence it, and with it the request log's diagnostic context, which binds through it otherwise.
        builder.Services.AddSerilog((services, logger) =>
        {
            var configuration = services.GetRequiredService<IConfiguration>();
            logger
                .ReadFrom.Configuration(configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext();

            if (IsJson(configuration)) logger.WriteTo.Console(new RenderedCompactJsonFormatter());
            else logger.WriteTo.Console(formatProvider: CultureInfo.InvariantCulture);
        }, preserveStaticLogger: true);
        return builder;
    }

    private static bool IsJson(IConfiguration configuration)
    {
        var format = configuration["Logging:Format"] ?? "text";
        return format.Trim().ToUpperInvariant() switch
        {
            "JSON" => true,
            "TEXT" => false,
            _ => throw new InvalidOperationException($"Logging:Format must be 'text' or 'json', not '{format}'."),
        };
    }
}
