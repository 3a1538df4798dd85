using Triggers.Modular.BuildingBlocks.Web;
using System.Globalization;
using FluentValidation;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.Tenancy.Contracts;

namespace Triggers.Modular.Host.Cli;

/// <summary>
/// Operator verbs run instead of the web host: <c>tenants</c>, <c>environments</c> and <c>keys</c>. They act through
/// <see cref="ITenancyModule"/> as actor <c>cli</c>. Exit codes: 0 done, 1 refused or failed (the reason is printed),
/// 2 usage error (usage is printed).
/// </summary>
public static class TenancyCli
{
    private static readonly string[] Nouns = ["tenants", "environments", "keys"];

    public const string Usage = """
        Usage:
          tenants create <id> [--name NAME] [--environments dev,prod]
          tenants list
          environments create <name> --tenant TENANT
          keys create --tenant TENANT --environment ENV --permissions p1,p2 [--name NAME]
          keys revoke <key_id> --tenant TENANT --environment ENV
          keys list --tenant TENANT --environment ENV
        Permissions: workflows:read, workflows:write, workflows:execute, events:write, audit:read, admin.
        Host settings may follow as --Section:Key=value (e.g. --EventStore:Provider=postgres).
        """;

    public static bool IsCommand(string[] args) => args is { Length: > 0 } && Nouns.Contains(args[0], StringComparer.Ordinal);

    public static async Task<int> RunAsync(IServiceProvider services, string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        var verb = args.Length >= 2 ? $"{args[0]} {args[1]}" : string.Join(' ', args);
        var command = TenancyCliCommands.Find(verb);
        var parsed = command is null ? null : CliArguments.Parse(args[2..], command.Options);
        if (command is null || parsed is null || parsed.Positional.Count != command.Positional
            || command.Required.Any(o => string.IsNullOrWhiteSpace(parsed.Option(o))))
        {
            await output.WriteLineAsync(Usage);
            return 2;
        }

        var module = services.GetRequiredService<ITenancyModule>().WithActor("cli");
        try
        {
            await command.Run(module, parsed, output);
            return 0;
        }
        catch (ValidationException ex)
        {
            foreach (var error in ex.Errors) await output.WriteLineAsync($"error: {FieldPath.ForApi(error.PropertyName)}: {error.ErrorMessage}");
            return 1;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await output.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
    }

    internal static async Task WriteTokenAsync(TextWriter output, string token)
    {
        await output.WriteLineAsync("Token (shown only this once; it is not stored and cannot be retrieved later):");
        await output.WriteLineAsync(token);
    }

    internal static string Time(DateTimeOffset? value) =>
        value?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";
}
