using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Triggers.Modular.Executions.Contracts.Steps;

namespace Triggers.Modular.Executions.Steps.Http;

internal static class HttpStepRegistration
{
    /// <summary>Registers the handler of the built-in <c>http</c> step, with <see cref="HttpStepOptions"/> bound from
    /// <c>Executions:Http</c> and checked at start-up. Calling it twice registers it once.</summary>
    public static IServiceCollection AddHttpStepHandler(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<HttpStepOptions>().Bind(configuration.GetSection(HttpStepOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HttpStepOptions>, HttpStepOptionsValidator>());
        if (!services.Any(d => d.ServiceType == typeof(IStepHandler) && d.ImplementationType == typeof(HttpStepHandler)))
            services.AddStepHandler<HttpStepHandler>();
        return services;
    }
}

/// <summary>Refuses settings the <c>http</c> step cannot work with, naming the setting.</summary>
internal sealed class HttpStepOptionsValidator : IValidateOptions<HttpStepOptions>
{
    public ValidateOptionsResult Validate(string? name, HttpStepOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var prefix = HttpStepOptions.SectionName + ":";
        var errors = new List<string>();
        foreach (var entry in options.AllowedNetworks)
        {
            if (AddressPolicy.ParseEntry(entry) is AllowedEntry.Invalid invalid)
                errors.Add($"{prefix}{nameof(HttpStepOptions.AllowedNetworks)}: {invalid.Error}");
        }
        if (options.MaxResponseBytes < 1)
            errors.Add($"{prefix}{nameof(HttpStepOptions.MaxResponseBytes)} must be at least 1; got {options.MaxResponseBytes}.");
        if (options.DefaultTimeoutSeconds is < 1 or > 300)
            errors.Add($"{prefix}{nameof(HttpStepOptions.DefaultTimeoutSeconds)} must be from 1 to 300; got {options.DefaultTimeoutSeconds}.");
        if (options.MaxRedirects is < 0 or > 50)
            errors.Add($"{prefix}{nameof(HttpStepOptions.MaxRedirects)} must be from 0 to 50; got {options.MaxRedirects}.");
        if (options.UserAgent is null || options.UserAgent.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            errors.Add($"{prefix}{nameof(HttpStepOptions.UserAgent)} must be a single line (empty sends none).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
