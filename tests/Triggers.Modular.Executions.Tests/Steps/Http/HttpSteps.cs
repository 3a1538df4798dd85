using Microsoft.Extensions.Options;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Executions.Steps.Http;

namespace Triggers.Modular.Executions.Tests.Steps.Http;

internal static class HttpSteps
{
    public const string IdempotencyKey = "exec-1:call";

    public static HttpStepHandler Handler(Action<HttpStepOptions>? configure = null, HostResolver? resolve = null)
    {
        var options = new HttpStepOptions();
        configure?.Invoke(options);
        return new HttpStepHandler(Options.Create(options), resolve);
    }

    /// <summary>A handler whose allow-list opens the loopback ranges the test servers listen on.</summary>
    public static HttpStepHandler LoopbackAllowed(Action<HttpStepOptions>? configure = null) =>
        Handler(o =>
        {
            o.AllowedNetworks.Add("127.0.0.1/32");
            configure?.Invoke(o);
        });

    public static StepExecutionContext Step(string config, string context = "{}") =>
        new("exec-1", "call", "http", 1, IdempotencyKey, Config.Parse(config), Config.Parse(context), "tenant-a", "production",
            DateTimeOffset.UnixEpoch, null);

    public static Task<StepOutcome> RunAsync(this HttpStepHandler handler, string config, string context = "{}",
        CancellationToken cancellationToken = default) =>
        handler.ExecuteAsync(Step(config, context), cancellationToken).AsTask();

    /// <summary>A path segment no other test uses, to find this test's requests on a shared server.</summary>
    public static string Tag() => Guid.NewGuid().ToString("N");

    public static StepOutcome.Completed Completed(StepOutcome outcome) => Assert.IsType<StepOutcome.Completed>(outcome);

    public static StepOutcome.Failed Failed(StepOutcome outcome) => Assert.IsType<StepOutcome.Failed>(outcome);
}

/// <summary>One Kestrel server on 127.0.0.1 and one on [::1], shared by the tests of a class.</summary>
public sealed class LoopbackServers : IAsyncLifetime
{
    internal LocalServer V4 { get; private set; } = null!;

    internal LocalServer V6 { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        V4 = await LocalServer.StartAsync("http://127.0.0.1:0");
        V6 = await LocalServer.StartAsync("http://[::1]:0");
    }

    public async Task DisposeAsync()
    {
        await V4.DisposeAsync();
        await V6.DisposeAsync();
    }
}
