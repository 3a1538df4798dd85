using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.Host;
using Triggers.Modular.Host.Cli;

var builder = WebApplication.CreateBuilder(args);
// CLI verbs print their own output; keep the host's informational log lines out of it.
if (TenancyCli.IsCommand(args) || AuditCli.IsCommand(args)) builder.Configuration["Serilog:MinimumLevel:Default"] = "Warning";
builder.AddTriggersHost();

var app = builder.Build();
await app.Services.MigrateStoreAsync();
if (TenancyCli.IsCommand(args)) return await TenancyCli.RunAsync(app.Services, args, Console.Out);
if (AuditCli.IsCommand(args)) return await AuditCli.RunAsync(app.Services, args, Console.Out);

app.MapTriggersHost();
await app.PrintFirstRunKeyAsync(Console.Out);
await app.RunAsync();
return 0;

/// <summary>Entry point, visible to WebApplicationFactory in the end-to-end tests.</summary>
public partial class Program;
