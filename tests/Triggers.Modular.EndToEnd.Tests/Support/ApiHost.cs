using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.BuildingBlocks.Security;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.BuildingBlocks.Tests.Support;
using Triggers.Modular.Tenancy.Contracts;

namespace Triggers.Modular.EndToEnd.Tests.Support;

/// <summary>
/// The real host over real HTTP (ASP.NET test server), on a fresh SQLite file or a fresh PostgreSQL database,
/// with first-run bootstrap off. Credentials are issued through the Tenancy facade, as the CLI does.
/// </summary>
public sealed class ApiHost : IAsyncDisposable
{
    private readonly WebApplicationFactory<Program> _factory;
    private readonly TestPostgres.TestDatabase? _pg;
    private readonly string? _folder;

    private ApiHost(WebApplicationFactory<Program> factory, TestPostgres.TestDatabase? pg, string? folder)
    {
        _factory = factory;
        _pg = pg;
        _folder = folder;
    }

    public IServiceProvider Services => _factory.Services;

    public string? SqlitePath { get; private init; }

    public string? PostgresConnectionString => _pg?.ConnectionString;

    public static async Task<ApiHost> StartAsync(StoreKind kind = StoreKind.Sqlite, Dictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null)
    {
        var all = new Dictionary<string, string?> { ["Tenancy:Bootstrap:Enabled"] = "false", ["RateLimiting:Enabled"] = "false" };
        TestPostgres.TestDatabase? pg = null;
        string? folder = null, path = null;
        if (kind == StoreKind.Postgres)
        {
            pg = await TestPostgres.CreateDatabaseAsync();
            all["EventStore:Provider"] = "postgres";
            all["EventStore:Postgres:ConnectionString"] = pg.ConnectionString;
        }
        else
        {
            folder = Path.Combine(Path.GetTempPath(), "tm-e2e", Guid.NewGuid().ToString("N"));
            path = Path.Combine(folder, "store.db");
            all["EventStore:Sqlite:Path"] = path;
        }

        foreach (var (k, v) in settings ?? []) all[k] = v;
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            foreach (var (k, v) in all) b.UseSetting(k, v);
            if (services is not null) b.ConfigureServices(services);
        });
        _ = factory.Server; // start now, so that migrations run before the first call
        return new ApiHost(factory, pg, folder) { SqlitePath = kind == StoreKind.Sqlite ? all["EventStore:Sqlite:Path"] : null };
    }

    public ITenancyModule Tenancy => Services.GetRequiredService<ITenancyModule>();

    /// <summary>Every event row in the store, committed or not yet visible to <c>$all</c> readers: on a shared PostgreSQL
    /// cluster another database's open transaction holds <c>$all</c> back, so counting through it would lag.</summary>
    public async Task<long> RawEventCountAsync(string? type = null)
    {
        var database = Services.GetRequiredService<IStoreDatabase>();
        await using var connection = await database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        var table = database.Dialect == StoreDialect.Postgres ? "event_store.events" : "es_events";
        command.CommandText = type is null ? $"SELECT COUNT(*) FROM {table}" : $"SELECT COUNT(*) FROM {table} WHERE type = @t";
        if (type is not null)
        {
            var p = command.CreateParameter();
            p.ParameterName = "@t";
            p.Value = type;
            command.Parameters.Add(p);
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>How many writes (appends) put a stream's events in the store: distinct writing transactions on PostgreSQL;
    /// on SQLite, where every append of a stream is its own transaction too, distinct <c>created_at</c> stamps (one per append).</summary>
    public async Task<long> AppendsToStreamAsync(string stream)
    {
        var database = Services.GetRequiredService<IStoreDatabase>();
        await using var connection = await database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = database.Dialect == StoreDialect.Postgres
            ? "SELECT COUNT(DISTINCT tx_id) FROM event_store.events WHERE stream_name = @s"
            : "SELECT COUNT(DISTINCT created_at) FROM es_events WHERE stream_name = @s";
        var p = command.CreateParameter();
        p.ParameterName = "@s";
        p.Value = stream;
        command.Parameters.Add(p);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A client without credentials.</summary>
    public HttpClient Anonymous() => _factory.CreateClient();

    public HttpClient WithToken(string token)
    {
        var client = _factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Creates the tenant and environment when missing and issues a key with those permissions.</summary>
    public async Task<IssuedApiKeyDto> IssueKeyAsync(string tenant, string environment, params string[] permissions)
    {
        var tenants = await Tenancy.ListTenantsAsync();
        var existing = tenants.FirstOrDefault(t => t.Id == tenant);
        if (existing is null) await Tenancy.CreateTenantAsync(tenant, tenant, [environment]);
        else if (!existing.Environments.Contains(environment)) await Tenancy.CreateEnvironmentAsync(tenant, environment);
        return await Tenancy.IssueApiKeyAsync(tenant, environment, $"test-{string.Join('-', permissions)}",
            permissions.Length == 0 ? [Permissions.Admin] : permissions);
    }

    public async Task<HttpClient> ClientAsync(string tenant, string environment, params string[] permissions) =>
        WithToken((await IssueKeyAsync(tenant, environment, permissions)).Token);

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        if (_pg is not null) await _pg.DisposeAsync();
        if (_folder is not null)
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_folder, recursive: true);
            }
            catch (IOException)
            {
                // best effort: a file still held open by a background service going down
            }
        }
    }
}

public static class Http
{
    public static Uri Url(string path) => new(path, UriKind.Relative);

    public static async Task<JsonObject> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text) as JsonObject ?? throw new InvalidOperationException($"Not a JSON object: {text}");
    }

    /// <summary>Asserts an RFC 9457 problem with this status and returns it.</summary>
    public static async Task<JsonObject> ProblemAsync(this HttpResponseMessage response, int status, string? type = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(body)!.AsObject();
        Assert.Equal(status, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(problem["type"]?.GetValue<string>()), body);
        Assert.False(string.IsNullOrEmpty(problem["title"]?.GetValue<string>()), body);
        Assert.StartsWith("https://triggers-modular.dev/problems/", problem["type"]!.GetValue<string>(), StringComparison.Ordinal);
        if (type is not null) Assert.Equal("https://triggers-modular.dev/problems/" + type, problem["type"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(problem["trace_id"]?.GetValue<string>()), body);
        var correlation = problem["correlation_id"]?.GetValue<string>();
        Assert.False(string.IsNullOrEmpty(correlation), body);
        Assert.Equal(correlation, response.Headers.GetValues("X-Correlation-Id").Single());
        return problem;
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, object body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Url(path)) { Content = JsonContent.Create(body, options: SnakeCase) };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return client.SendAsync(request);
    }

    public static JsonSerializerOptions SnakeCase { get; } = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
