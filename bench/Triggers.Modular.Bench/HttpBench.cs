using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;

namespace Triggers.Modular.Bench;

/// <summary>
/// The platform's request pipeline over real HTTP (<c>--only http</c>): the host runs as its own process (Kestrel on
/// 127.0.0.1, production environment, rate limiting off, logging at Warning), once on a temp SQLite file and once on
/// a fresh PostgreSQL database; N clients, each with its own kept-alive HTTP/1.1 connection, call one endpoint in a
/// loop. Every response's status is checked; a failed request counts as an error, never as throughput.
/// </summary>
internal sealed class HttpBench(BenchOptions o, List<PhaseResult> results, Dictionary<string, string> environment)
{
    public const string Live = "(a) GET /health/live, anonymous";
    public const string Me = "(b) GET /api/v1/me, API key";
    public const string Keys = "(c) GET /api/v1/keys, API key";
    public const string CreateTenant = "(d0) POST /api/v1/admin/tenants, diagnostic";
    public const string Create = "(d) POST /api/v1/environments";
    public const string CreateIdempotent = "(e) POST /api/v1/environments, new Idempotency-Key each";
    public const string Replay = "(f) POST /api/v1/environments, one Idempotency-Key replayed";
    public const string DefinitionJson = "(g) POST /api/v1/workflows/definitions, JSON";
    public const string DefinitionYaml = "(h) POST /api/v1/workflows/definitions, YAML";
    public const string DefinitionChain = "(i) POST /api/v1/workflows/definitions, 200-step chain";
    public const string DefinitionGet = "(j) GET /api/v1/workflows/definitions/{id}";
    public const string DefinitionPut = "(k) PUT /api/v1/workflows/definitions/{id}";
    public const string DefinitionRefused = "(l) POST /api/v1/workflows/definitions, refused (3-step cycle)";

    private const string DefinitionsRoute = "/api/v1/workflows/definitions";

    /// <summary>Untimed load per scenario right after the host starts, before any measured phase (JIT tiers, pools, caches).</summary>
    public static readonly TimeSpan HostWarmup = TimeSpan.FromSeconds(2);

    private readonly string _tag = "t" + Guid.NewGuid().ToString("N")[..6];

    public async Task RunAsync()
    {
        var dll = o.HostDll ?? HostProcess.LocateDll();
        environment["Host under test"] = $"{dll}, started with `dotnet`; Kestrel HTTP/1.1 on 127.0.0.1, ASPNETCORE_ENVIRONMENT=Production, " +
                                         $"rate limiting off, Serilog minimum level Warning, API-key cache {ApiKeyCache()}; {HostGc(dll)}";
        environment["HTTP clients"] = "one HttpClient + SocketsHttpHandler per client, one kept-alive HTTP/1.1 connection each, on the same machine as the host";
        environment["Host warm-up"] = $"after each start, every scenario {HostWarmup.TotalSeconds:0} s untimed (4 clients; environment creates 1 client on a throwaway tenant), then the phases";

        var stores = o.HttpStores ?? ["sqlite", "postgres"];
        if (stores.Contains("sqlite")) await RunSqliteAsync(dll);
        if (stores.Contains("postgres"))
        {
            try
            {
                await RunPostgresAsync(dll);
            }
            catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException)
            {
                Console.Error.WriteLine($"[http] PostgreSQL skipped: {ex.Message}");
                environment["HTTP on PostgreSQL"] = $"not run: {ex.Message}";
            }
        }
    }

    private async Task RunSqliteAsync(string dll)
    {
        var folder = Path.Combine(Path.GetTempPath(), "tm-bench-http", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            await using var host = await HostProcess.StartAsync(dll, new Dictionary<string, string>
            {
                ["EventStore__Provider"] = "sqlite",
                ["EventStore__Sqlite__Path"] = Path.Combine(folder, "store.db"),
            });
            Console.Error.WriteLine($"[http] SQLite host at {host.Url} (pid {host.Process.Id})");
            await RunScenariosAsync("SQLite", host, checkpoint: null);
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                Console.Error.WriteLine($"[http] could not delete {folder}");
            }
        }
    }

    private async Task RunPostgresAsync(string dll)
    {
        var name = $"tm_bench_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(o.PostgresAdmin))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }

        Console.Error.WriteLine($"[http] created database {name}");
        var connectionString = new NpgsqlConnectionStringBuilder(o.PostgresAdmin) { Database = name }.ConnectionString;
        CpuSample.PostgresDatabase = name;
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            await using var host = await HostProcess.StartAsync(dll, new Dictionary<string, string>
            {
                ["EventStore__Provider"] = "postgres",
                ["EventStore__Postgres__ConnectionString"] = connectionString,
            });
            Console.Error.WriteLine($"[http] PostgreSQL host at {host.Url} (pid {host.Process.Id})");
            await RunScenariosAsync("PostgreSQL", host, () => CheckpointAsync(dataSource));
        }
        finally
        {
            CpuSample.PostgresDatabase = null;
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(o.PostgresAdmin);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
            Console.Error.WriteLine($"[http] dropped database {name}");
        }
    }

    private async Task RunScenariosAsync(string backend, HostProcess host, Func<Task>? checkpoint)
    {
        var admin = host.AdminKey;
        CpuSample.HostProcess = host.Process;
        try
        {
            // The replayed key: used once for real, then every request finds the stored response.
            var replayName = $"replay-{_tag}";
            var replayKey = $"{_tag}-replay";
            using (var client = NewClient(host.Url))
            using (var first = await client.SendAsync(Post(admin, replayName, replayKey)))
            {
                if (first.StatusCode != HttpStatusCode.Created)
                    throw new InvalidOperationException($"First POST with the replayed key: {(int)first.StatusCode} {await first.Content.ReadAsStringAsync()}");
            }

            var (_, warmKey) = await NewTenantAsync(host, admin, "warm");
            await ExpectCycleRefusedAsync(host, admin);
            var warmRead = await NewDefinitionAsync(host, admin);
            var warmUpdate = await NewDefinitionAsync(host, admin);
            var warmups = new (string Name, int Clients, Func<int, long, HttpRequestMessage> Request)[]
            {
                ("live", 4, (_, _) => new HttpRequestMessage(HttpMethod.Get, "/health/live")),
                ("me", 4, (_, _) => Get("/api/v1/me", admin)),
                ("keys", 4, (_, _) => Get("/api/v1/keys", admin)),
                ("tenants", 4, (w, i) => NewTenantRequest(admin, $"{_tag}-w-{w}-{i}")),
                // One client: concurrent creates on one tenant conflict, which the phases measure.
                ("create", 1, (w, i) => Post(warmKey, $"w{w}-{i}", idempotencyKey: null)),
                ("create+key", 1, (w, i) => Post(warmKey, $"k{w}-{i}", $"{_tag}-warm-{w}-{i}")),
                ("replay", 4, (_, _) => Post(admin, replayName, replayKey)),
                ("definition json", 4, (_, _) => DefinitionRequest(HttpMethod.Post, DefinitionsRoute, admin, DefinitionDocuments.OnboardingJson, Json)),
                ("definition yaml", 4, (_, _) => DefinitionRequest(HttpMethod.Post, DefinitionsRoute, admin, DefinitionDocuments.OnboardingYaml, Yaml)),
                ("definition chain", 4, (_, _) => DefinitionRequest(HttpMethod.Post, DefinitionsRoute, admin, DefinitionDocuments.ChainJson, Json)),
                ("definition get", 4, (_, _) => Get($"{DefinitionsRoute}/{warmRead}", admin)),
                // One client: concurrent updates of one definition conflict, which the phases measure.
                ("definition put", 1, (_, _) => DefinitionRequest(HttpMethod.Put, $"{DefinitionsRoute}/{warmUpdate}", admin, DefinitionDocuments.OnboardingJson, Json)),
                ("definition refused", 4, (_, _) => DefinitionRequest(HttpMethod.Post, DefinitionsRoute, admin, DefinitionDocuments.CycleJson, Json)),
            };
            foreach (var (name, clients, request) in warmups)
            {
                // Statuses are not checked here.
                var warm = await Phase.RunAsync(backend, $"warm-up {name}", clients, TimeSpan.Zero, HostWarmup,
                    Clients(host.Url, request, HttpStatusCode.OK, null, new ErrorKinds("errors (warm-up included)")));
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[http] {backend} warm-up {name}: {warm.TotalOps:N0} requests {warm.Error}"));
            }

            foreach (var clients in o.WriterCounts)
                await AddAsync(backend, host, Live, clients, (_, _) => new HttpRequestMessage(HttpMethod.Get, "/health/live"),
                    HttpStatusCode.OK, "baseline: routing, middleware, no credential, no store", checkpoint);
            foreach (var clients in o.WriterCounts)
                await AddAsync(backend, host, Me, clients, (_, _) => Get("/api/v1/me", admin),
                    HttpStatusCode.OK, "authentication (key stream read, then cached), no store access", checkpoint);
            foreach (var clients in o.WriterCounts)
                await AddAsync(backend, host, Keys, clients, (_, _) => Get("/api/v1/keys", admin),
                    HttpStatusCode.OK, "read-model query through the mediator (1 key listed)", checkpoint);

            // Diagnostic: a command that starts a new stream each time (one TenantCreated event), so its cost does not grow.
            foreach (var clients in o.WriterCounts)
                await AddAsync(backend, host, CreateTenant, clients, (w, i) => NewTenantRequest(admin, $"{_tag}-{clients}-{w}-{i}"),
                    HttpStatusCode.Created, "diagnostic: event-sourced command on a new stream per request (operator key, no environments)", checkpoint);

            // Each write phase gets a tenant of its own: every create-environment command reads the tenant's whole stream
            // and adds one event to it, so a shared tenant would make each phase pay for the ones before it.
            foreach (var clients in o.WriterCounts)
            {
                var (tenant, key) = await NewTenantAsync(host, admin, $"d{clients}");
                await AddAsync(backend, host, Create, clients, (w, i) => Post(key, $"e{w}-{i}", idempotencyKey: null),
                    HttpStatusCode.Created, $"event-sourced command: validation, load tenant stream, decide, append (fresh tenant {tenant})",
                    checkpoint, StreamGrowth);
            }

            foreach (var clients in o.WriterCounts)
            {
                var (tenant, key) = await NewTenantAsync(host, admin, $"e{clients}");
                await AddAsync(backend, host, CreateIdempotent, clients, (w, i) => Post(key, $"e{w}-{i}", $"{_tag}-{clients}-{w}-{i}"),
                    HttpStatusCode.Created, $"(d) + idempotency claim and completion writes (fresh tenant {tenant})", checkpoint, StreamGrowth);
            }

            foreach (var clients in o.WriterCounts)
                await AddAsync(backend, host, Replay, clients, (_, _) => Post(admin, replayName, replayKey),
                    HttpStatusCode.Created, "idempotency lookup returns the stored response (Idempotent-Replayed: true checked)", checkpoint,
                    check: r => r.Headers.TryGetValues("Idempotent-Replayed", out var v) && v.Contains("true"));

            // Definitions: each create starts a stream of its own (one DefinitionCreated event), so the cost does not grow.
            foreach (var clients in o.WriterCounts)
                await AddAsync(backend, host, DefinitionJson, clients,
                    (_, _) => DefinitionRequest(HttpMethod.Post, DefinitionsRoute, admin, DefinitionDocuments.OnboardingJson, Json),
                    HttpStatusCode.Created, $"2-step onboarding document ({Size(DefinitionDocuments.OnboardingJson)}): parse, bind, validate, append to a new stream", checkpoint);
            foreach (var clients in o.WriterCounts)
                await AddAsync(backend, host, DefinitionYaml, clients,
                    (_, _) => DefinitionRequest(HttpMethod.Post, DefinitionsRoute, admin, DefinitionDocuments.OnboardingYaml, Yaml),
                    HttpStatusCode.Created, $"(g) as application/yaml ({Size(DefinitionDocuments.OnboardingYaml)}; YAML → JSON tree first)", checkpoint);
            foreach (var clients in o.WriterCounts)
                await AddAsync(backend, host, DefinitionChain, clients,
                    (_, _) => DefinitionRequest(HttpMethod.Post, DefinitionsRoute, admin, DefinitionDocuments.ChainJson, Json),
                    HttpStatusCode.Created, $"{DefinitionDocuments.ChainSteps} set steps, each depending on the one before ({Size(DefinitionDocuments.ChainJson)}): the step limit; validation and cycle detection at the maximum size", checkpoint);

            // A definition of its own per phase, never updated: the read folds a one-event stream.
            foreach (var clients in o.WriterCounts)
            {
                var id = await NewDefinitionAsync(host, admin);
                await AddAsync(backend, host, DefinitionGet, clients, (_, _) => Get($"{DefinitionsRoute}/{id}", admin),
                    HttpStatusCode.OK, "load and fold the definition's stream (1 event, version 1), no read model", checkpoint);
            }

            // Each update appends a version to one definition's stream, which every later update (and read) folds.
            foreach (var clients in o.WriterCounts)
            {
                var id = await NewDefinitionAsync(host, admin);
                await AddAsync(backend, host, DefinitionPut, clients,
                    (_, _) => DefinitionRequest(HttpMethod.Put, $"{DefinitionsRoute}/{id}", admin, DefinitionDocuments.OnboardingJson, Json),
                    HttpStatusCode.OK, "new version of one definition per request, no If-Match (validate, load and fold the stream, append)", checkpoint,
                    r => string.Create(CultureInfo.InvariantCulture, $"definition stream grew from 1 to {1 + r.TotalEvents:N0} events during the phase (warm-up included)"));
            }

            foreach (var clients in o.WriterCounts)
                await AddAsync(backend, host, DefinitionRefused, clients,
                    (_, _) => DefinitionRequest(HttpMethod.Post, DefinitionsRoute, admin, DefinitionDocuments.CycleJson, Json),
                    HttpStatusCode.BadRequest, "validation refuses a 3-step dependency cycle: 400 is the expected answer (checked once to name the cycle), nothing stored", checkpoint);
        }
        finally
        {
            CpuSample.HostProcess = null;
        }
    }

    private static string StreamGrowth(PhaseResult r) =>
        string.Create(CultureInfo.InvariantCulture, $"tenant stream grew from 2 to {2 + r.TotalEvents:N0} events during the phase (warm-up included)");

    private async Task AddAsync(string backend, HostProcess host, string scenario, int clients, Func<int, long, HttpRequestMessage> request,
        HttpStatusCode expected, string note, Func<Task>? checkpoint, Func<PhaseResult, string>? describe = null,
        Func<HttpResponseMessage, bool>? check = null)
    {
        if (checkpoint is not null) await checkpoint();
        var outcomes = new ErrorKinds("errors (warm-up included)");
        var (errorLinesBefore, _) = host.LoggedProblems;
        var result = await Phase.RunAsync(backend, scenario, clients, o.Warmup, o.Duration,
            Clients(host.Url, request, expected, check, outcomes), note);
        var (errorLinesAfter, _) = host.LoggedProblems;

        var parts = new List<string>();
        var failed = result.Ops - result.Events;
        if (result.Error is null && failed > 0)
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"⚠ {failed:N0} failed requests in the measured window"));
        parts.Add(note);
        if (describe is not null && result.Error is null) parts.Add(describe(result));
        if (outcomes.Describe() is { Length: > 0 } errors) parts.Add(errors);
        if (errorLinesAfter > errorLinesBefore)
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"host logged {errorLinesAfter - errorLinesBefore:N0} error lines, the last: {host.LastError}"));
        if (host.Process.HasExited) parts.Add($"⚠ host exited (code {host.Process.ExitCode})");
        result = result with { Note = string.Join("; ", parts).Replace("|", "\\|", StringComparison.Ordinal) };
        results.Add(result);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[http] {backend} {scenario} @{clients}: {result.EventsPerSecond:N0} req/s, p50 {result.P50Ms:0.00} ms, p99 {result.P99Ms:0.00} ms, {failed:N0} errors {result.Error}"));
        if (host.Process.HasExited) throw new InvalidOperationException("The host exited during the phase:\n" + host.Tail);
    }

    /// <summary>One client per loop, each with one connection kept alive; the operation returns 1 on the expected status, 0 otherwise.</summary>
    private static Func<int, Task<Writer>> Clients(Uri baseUri, Func<int, long, HttpRequestMessage> build, HttpStatusCode expected,
        Func<HttpResponseMessage, bool>? check, ErrorKinds outcomes) => w =>
    {
        var client = NewClient(baseUri);
        long sequence = 0;
        return Task.FromResult(new Writer(async () =>
        {
            using var request = build(w, sequence++);
            try
            {
                // Default completion option: the body is read to the end before SendAsync returns.
                using var response = await client.SendAsync(request);
                if (response.StatusCode == expected && (check is null || check(response))) return 1;
                var body = await response.Content.ReadAsStringAsync();
                var type = ProblemType(body);
                // A problem type names the error well enough (the host's exception line is reported separately); else show the body.
                outcomes.Add(response.StatusCode == expected ? $"{(int)response.StatusCode} failed check" : $"{(int)response.StatusCode} {type}",
                    type.Length > 0 ? null : $"{(int)response.StatusCode} {body}");
                return 0;
            }
            catch (HttpRequestException ex)
            {
                outcomes.Add(ex.HttpRequestError.ToString(), ex.Message);
                return 0;
            }
            catch (TaskCanceledException ex)
            {
                outcomes.Add("timeout", ex.Message);
                return 0;
            }
        }, () =>
        {
            client.Dispose();
            return ValueTask.CompletedTask;
        }));
    };

    internal static HttpClient NewClient(Uri baseUri) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 1,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
        UseCookies = false,
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
    })
    {
        BaseAddress = baseUri,
        Timeout = TimeSpan.FromSeconds(60),
        DefaultRequestVersion = HttpVersion.Version11,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    private static HttpRequestMessage Get(string path, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return request;
    }

    private static HttpRequestMessage Post(string key, string environmentName, string? idempotencyKey) =>
        Post("/api/v1/environments", key, new JsonObject { ["name"] = environmentName }, idempotencyKey);

    private static HttpRequestMessage Post(string path, string key, JsonObject body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return request;
    }

    private const string Json = "application/json";
    private const string Yaml = "application/yaml";

    private static string Size(string body) =>
        string.Create(CultureInfo.InvariantCulture, $"{Encoding.UTF8.GetByteCount(body):N0} bytes");

    private static HttpRequestMessage DefinitionRequest(HttpMethod method, string path, string key, string body, string mediaType)
    {
        var request = new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8, mediaType) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return request;
    }

    /// <summary>Creates the onboarding definition and returns its id.</summary>
    private static async Task<string> NewDefinitionAsync(HostProcess host, string key)
    {
        using var client = NewClient(host.Url);
        using var response = await client.SendAsync(DefinitionRequest(HttpMethod.Post, DefinitionsRoute, key, DefinitionDocuments.OnboardingJson, Json));
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created)
            throw new InvalidOperationException($"Creating a definition: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)?["id"]?.GetValue<string>() ?? throw new InvalidOperationException($"No id in the created definition: {body}");
    }

    /// <summary>The refused scenario counts any 400 as expected; make sure once that it is the cycle that is refused.</summary>
    private static async Task ExpectCycleRefusedAsync(HostProcess host, string key)
    {
        using var client = NewClient(host.Url);
        using var response = await client.SendAsync(DefinitionRequest(HttpMethod.Post, DefinitionsRoute, key, DefinitionDocuments.CycleJson, Json));
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.BadRequest || !body.Contains("cycle", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"The cycle document was not refused as a cycle: {(int)response.StatusCode} {body}");
    }

    private static HttpRequestMessage NewTenantRequest(string operatorKey, string tenant) =>
        Post("/api/v1/admin/tenants", operatorKey, new JsonObject { ["id"] = tenant, ["name"] = "bench", ["environments"] = new JsonArray() });

    /// <summary>A tenant with environment <c>dev</c> and an admin key for it, through the operator endpoints.</summary>
    private async Task<(string Tenant, string Key)> NewTenantAsync(HostProcess host, string operatorKey, string phase)
    {
        var tenant = $"bench-{_tag}-{phase}";
        using var client = NewClient(host.Url);
        using (var created = await client.SendAsync(Post("/api/v1/admin/tenants", operatorKey,
                   new JsonObject { ["id"] = tenant, ["name"] = "bench", ["environments"] = new JsonArray("dev") })))
        {
            if (created.StatusCode != HttpStatusCode.Created)
                throw new InvalidOperationException($"Creating tenant {tenant}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        }

        using var issued = await client.SendAsync(Post($"/api/v1/admin/tenants/{tenant}/environments/dev/keys", operatorKey,
            new JsonObject { ["name"] = "bench", ["permissions"] = new JsonArray("admin") }));
        var body = await issued.Content.ReadAsStringAsync();
        if (issued.StatusCode != HttpStatusCode.Created)
            throw new InvalidOperationException($"Issuing a key for {tenant}: {(int)issued.StatusCode} {body}");
        var token = JsonNode.Parse(body)?["token"]?.GetValue<string>()
                    ?? throw new InvalidOperationException($"No token in the issued key of {tenant}.");
        return (tenant, token);
    }

    private static async Task CheckpointAsync(NpgsqlDataSource dataSource)
    {
        try
        {
            await using var cmd = dataSource.CreateCommand("CHECKPOINT");
            await cmd.ExecuteNonQueryAsync();
        }
        catch (PostgresException)
        {
            // Needs superuser or pg_checkpoint (PostgreSQL 15); without it the phases just run back to back.
        }
    }

    /// <summary>Sends <paramref name="request"/> and returns <paramref name="idField"/> of a 202 answer; any other answer,
    /// a transport error or a timeout is counted in <paramref name="errors"/> (by status and problem type) and gives null.</summary>
    internal static async Task<string?> AcceptedIdAsync(HttpClient client, HttpRequestMessage request, string idField, ErrorKinds errors)
    {
        try
        {
            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.Accepted && JsonNode.Parse(body)?[idField]?.GetValue<string>() is { } id) return id;
            var type = ProblemType(body);
            errors.Add($"{(int)response.StatusCode} {type}", type.Length > 0 ? null : body);
            return null;
        }
        catch (HttpRequestException ex)
        {
            errors.Add(ex.HttpRequestError.ToString(), ex.Message);
            return null;
        }
        catch (TaskCanceledException ex)
        {
            errors.Add("timeout", ex.Message);
            return null;
        }
    }

    internal static string ProblemType(string body)
    {
        try
        {
            var type = JsonNode.Parse(body)?["type"]?.GetValue<string>();
            return type is null ? "" : type[(type.LastIndexOf('/') + 1)..];
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return "";
        }
    }

    private static string ApiKeyCache()
    {
        var seconds = Environment.GetEnvironmentVariable("Auth__ApiKeyCacheSeconds");
        return seconds is null ? "5 s (default)" : $"{seconds} s";
    }

    /// <summary>The GC the host's runtimeconfig asks for.</summary>
    internal static string HostGc(string dll)
    {
        try
        {
            var config = JsonNode.Parse(File.ReadAllText(Path.ChangeExtension(dll, ".runtimeconfig.json")));
            var options = config?["runtimeOptions"]?["configProperties"];
            var server = options?["System.GC.Server"]?.GetValue<bool>() ?? false;
            return $"server GC {server}";
        }
        catch (Exception ex) when (ex is IOException or JsonException or InvalidOperationException)
        {
            return "GC unknown";
        }
    }
}
