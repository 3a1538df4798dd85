using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.Data.Sqlite;
using Triggers.Modular.BuildingBlocks.Tests.Support;

namespace Triggers.Modular.EndToEnd.Tests.Runtime;

/// <summary>
/// The NDJSON export streams (issue 9): 250,000 events of about 1 KiB — an export of about 280 MiB — leave the host
/// process's resident memory within a small bound, where holding the export would take more than its size. The host runs
/// as its own process (its memory measured alone, from /proc) with workstation GC, whose small allocation budget makes
/// resident memory follow what is live rather than how much garbage a server-GC heap lets pile up.
/// </summary>
public sealed class AuditExportMemoryTests
{
    /// <summary>More than the 100,000, so that the export (~280 MiB) dwarfs what any export costs once whatever its
    /// size — SQLite page caches of the pooled connections, buffers, GC budget: +49–54 MiB was measured at 100,000 events on
    /// a loaded machine, where a buffered export grows by more than the export.</summary>
    private const int Count = 250_000;

    private static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        throw new InvalidOperationException("no VmRSS");
    }

    /// <summary>Events of the first-run scope (default × dev) written straight into the host's SQLite file, in one
    /// transaction, beside the events the host wrote itself.</summary>
    private static async Task FillAsync(string path)
    {
        var filler = new string('x', 900);
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, DefaultTimeout = 30 }.ConnectionString);
        await connection.OpenAsync();
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync();
        await using var insert = connection.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = "INSERT INTO es_events (event_id, stream_name, category, revision, type, schema_version, data, tenant_id, environment, " +
                             "actor, correlation_id, causation_id, created_at) VALUES ($id, $stream, 'bulk', $revision, 'bulk.recorded', 1, $data, " +
                             "'default', 'dev', 'user:bulk', $correlation, NULL, $created)";
        var id = insert.Parameters.Add("$id", SqliteType.Text);
        var stream = insert.Parameters.Add("$stream", SqliteType.Text);
        var revision = insert.Parameters.Add("$revision", SqliteType.Integer);
        var data = insert.Parameters.Add("$data", SqliteType.Text);
        var correlation = insert.Parameters.Add("$correlation", SqliteType.Text);
        var created = insert.Parameters.Add("$created", SqliteType.Text);
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < Count; i++)
        {
            id.Value = Guid.NewGuid().ToString();
            stream.Value = $"bulk-{i / 100}";
            revision.Value = i % 100;
            data.Value = $$"""{"n":{{i}},"filler":"{{filler}}"}""";
            correlation.Value = $"bulk-{i / 100}";
            created.Value = now.AddTicks(i * 10).ToString("O", CultureInfo.InvariantCulture);
            await insert.ExecuteNonQueryAsync();
        }

        await tx.CommitAsync();
    }

    [Fact]
    public async Task Given_100000_events_When_exported_as_ndjson_Then_the_host_streams_them_in_bounded_memory()
    {
        await using var store = await ProcessStore.CreateAsync(StoreKind.Sqlite, "tm-export");
        using var host = await HostProcess.StartAsync(store.Environment(new Dictionary<string, string> { ["DOTNET_gcServer"] = "0" }));
        var token = host.FirstRunToken ?? throw new InvalidOperationException("no first-run key: " + host.OutputTail());
        await FillAsync(store.Environment([])["EventStore__Sqlite__Path"]);
        using var client = host.Client(token);
        client.Timeout = TimeSpan.FromMinutes(5);

        async Task<(long Lines, long Bytes, long PeakResident)> ExportAsync(string query)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/audit/events?{query}");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[64 * 1024];
            long lines = 0, bytes = 0, peak = 0;
            var sampled = Environment.TickCount64;
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                bytes += read;
                lines += buffer.AsSpan(0, read).Count((byte)'\n');
                if (Environment.TickCount64 - sampled < 20) continue;
                sampled = Environment.TickCount64;
                peak = Math.Max(peak, ResidentBytes(host.ProcessId));
            }

            return (lines, bytes, Math.Max(peak, ResidentBytes(host.ProcessId)));
        }

        var warm = await ExportAsync("type=bulk.*&stream=bulk-1"); // the export path compiled and its first allocations made
        Assert.Equal(100, warm.Lines);
        var baseline = ResidentBytes(host.ProcessId);

        var export = await ExportAsync("type=bulk.*&order=oldest");

        Assert.Equal(Count, export.Lines);
        Assert.True(export.Bytes > 250_000_000, $"{export.Bytes:N0} bytes exported");
        var growth = export.PeakResident - baseline;
        Assert.True(growth < 96 * 1024 * 1024,
            $"resident memory grew {growth / 1048576.0:N1} MiB (from {baseline / 1048576.0:N1} MiB) while exporting {export.Bytes / 1048576.0:N1} MiB");
    }
}
