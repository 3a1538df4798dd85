using System.Collections.Concurrent;
using System.Text.Json;
using Triggers.Modular.Executions.Contracts.Steps;

namespace Triggers.Modular.EndToEnd.Tests.Runtime;

/// <summary>A host-registered step type, <c>probe</c>, that takes any config (or none) and does nothing but be watched.</summary>
internal sealed class ProbeStepType : IStepType
{
    public const string TypeName = "probe";

    public string Name => TypeName;

    public string Description => "Test probe: records who runs it and whether deliveries of one attempt overlap.";

    public string ConfigSchema => """{ "type": "object" }""";

    public IReadOnlyList<StepConfigError> Validate(JsonElement config) => [];
}

/// <summary>What every probe delivery, on every host instance in the test, reports to.</summary>
internal sealed class ProbeRecorder
{
    private readonly ConcurrentDictionary<string, int> _running = new(StringComparer.Ordinal);
    private int _maxOverlap;

    /// <summary>Deliveries per <c>{execution_id}:{step_id}:{attempt}</c>.</summary>
    public ConcurrentDictionary<string, int> Deliveries { get; } = new(StringComparer.Ordinal);

    /// <summary>Deliveries per host instance.</summary>
    public ConcurrentDictionary<string, int> ByInstance { get; } = new(StringComparer.Ordinal);

    /// <summary>The instance that ran each <c>{execution_id}:{step_id}:{attempt}</c> (the last one, if several did).</summary>
    public ConcurrentDictionary<string, string> RanOn { get; } = new(StringComparer.Ordinal);

    /// <summary>Keys that ran twice at once, with the instances involved.</summary>
    public ConcurrentQueue<string> Overlaps { get; } = new();

    /// <summary>The most deliveries of one attempt seen running at the same moment.</summary>
    public int MaxOverlap => Volatile.Read(ref _maxOverlap);

    public void Enter(string key, string instance)
    {
        Deliveries.AddOrUpdate(key, 1, (_, n) => n + 1);
        ByInstance.AddOrUpdate(instance, 1, (_, n) => n + 1);
        RanOn[key] = instance;
        var now = _running.AddOrUpdate(key, 1, (_, n) => n + 1);
        if (now > 1) Overlaps.Enqueue($"{key} x{now} (latest on {instance})");
        int seen;
        while (now > (seen = Volatile.Read(ref _maxOverlap)) && Interlocked.CompareExchange(ref _maxOverlap, now, seen) != seen)
        {
        }
    }

    public void Exit(string key) => _running.AddOrUpdate(key, 0, (_, n) => n - 1);
}

/// <summary>This host instance's name, for <see cref="ProbeRecorder.ByInstance"/>.</summary>
internal sealed record ProbeInstance(string Name, ProbeRecorder Recorder);

internal sealed class ProbeStepHandler(ProbeInstance instance) : IStepHandler
{
    public string StepType => ProbeStepType.TypeName;

    public async ValueTask<StepOutcome> ExecuteAsync(StepExecutionContext step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        var key = $"{step.ExecutionId}:{step.StepId}:{step.Attempt}";
        instance.Recorder.Enter(key, instance.Name);
        try
        {
            await Task.Delay(Random.Shared.Next(1, 6), cancellationToken).ConfigureAwait(false);
            return StepOutcome.Success(JsonSerializer.SerializeToElement(new { instance = instance.Name }));
        }
        finally
        {
            instance.Recorder.Exit(key);
        }
    }
}
