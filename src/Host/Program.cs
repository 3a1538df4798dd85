using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.Host;

var builder = WebApplication.CreateBuilder(args);
builder.AddTriggersHost();

var app = builder.Build();
await app.Services.MigrateStoreAsync();
app.MapTriggersHost();
await app.RunAsync();

/// <summary>Entry point, visible to WebApplicationFactory in the end-to-end tests.</summary>
public partial class Program;
