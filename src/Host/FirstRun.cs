using Triggers.Modular.Tenancy.Contracts;

namespace Triggers.Modular.Host;

internal static class FirstRun
{
    /// <summary>
    /// On an empty store, creates tenant <c>default</c> / environment <c>dev</c> and prints its admin key once — to
    /// standard output, not through the logger, so the key never reaches a log sink.
    /// </summary>
    public static async Task PrintFirstRunKeyAsync(this WebApplication app, TextWriter output)
    {
        if (app.Services.GetService<ITenancyModule>() is not { } tenancy) return;
        var key = await tenancy.WithActor("system").EnsureFirstRunAsync();
        if (key is null) return;
        await output.WriteLineAsync($"""

            ================================================================================
             First run: created tenant '{key.TenantId}', environment '{key.Environment}' and an admin API key.
             It is shown this once and stored only as a hash:

               {key.Token}

             Try:  curl -H "Authorization: Bearer {key.Token}" http://127.0.0.1:5080/api/v1/me
               (5080 is the default; use the address of "Now listening on" below if you changed it)
             More keys:  dotnet run --project src/Host -- keys create --tenant {key.TenantId} --environment {key.Environment} --permissions events:write
            ================================================================================

            """);
    }
}
