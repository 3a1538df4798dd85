using System.Diagnostics.Metrics;

namespace Triggers.Modular.Executions.Runtime;

/// <summary>The embedded runtime (configuration section <c>Executions:Runtime</c>).</summary>
internal sealed class RuntimeOptions
{
    /// <summary>The runtimes: <c>embedded</c> (default) runs steps in this host; <c>temporal</c> runs every execution as a
    /// Temporal workflow (the Temporal module; docs/adr/0017) — the embedded runtime then runs nothing; <c>none</c> records
    /// executions but runs nothing here (another instance does).</summary>
    public static readonly string[] Modes = ["embedded", "temporal", "none"];

    public string Mode { get; set; } = "embedded";

    /// <summary>Step attempts run at once by this instance.</summary>
    public int MaxConcurrency { get; set; } = 64;

    /// <summary>How often the work table is polled for due work that did not arrive in-process (other instances'
    /// work, back-offs and timers after a restart).</summary>
    public double PollIntervalSeconds { get; set; } = 1;

    /// <summary>A step's timeout when neither the step nor its type sets one.</summary>
    public int DefaultStepTimeoutSeconds { get; set; } = 300;

    /// <summary>Added to a step's timeout to make its lease: if the worker dies, the attempt is delivered again that long
    /// after its timeout would have cut it off.</summary>
    public double LeaseGraceSeconds { get; set; } = 30;

    /// <summary>How long a claimed work row is passed over by other pollers.</summary>
    public double ClaimSeconds { get; set; } = 30;

    /// <summary>Largest step output recorded (UTF-8 JSON); a larger one fails the step with <c>output_too_large</c>.</summary>
    public int MaxStepOutputBytes { get; set; } = 256 * 1024;

    /// <summary>While a step runs, how often its execution is checked for a cancel or timeout decided on another instance.</summary>
    public double CancelCheckSeconds { get; set; } = 5;

    /// <summary>On shutdown, how long running steps may finish (and have their outcomes recorded) before they are cut off.</summary>
    public double ShutdownGraceSeconds { get; set; } = 10;

    /// <summary>Back-offs and timers due within this horizon are also kept as in-process timers (no poll delay).</summary>
    public double LocalTimerHorizonSeconds { get; set; } = 300;
}

internal static class ExecutionMetrics
{
    public static readonly Meter Meter = new("Triggers.Modular.Executions");

    public static readonly Counter<long> Started = Meter.CreateCounter<long>("executions_started", description: "Executions started.");

    public static readonly Counter<long> Finished = Meter.CreateCounter<long>("executions_finished",
        description: "Executions finished, by status (completed, failed, cancelled).");

    public static readonly Counter<long> StepAttempts = Meter.CreateCounter<long>("execution_step_attempts",
        description: "Step attempts run by this instance, by step type and outcome.");

    public static readonly Histogram<double> StepDuration = Meter.CreateHistogram<double>("execution_step_duration", unit: "s",
        description: "Duration of step attempts, by step type.");

    public static readonly Histogram<double> DispatchLatency = Meter.CreateHistogram<double>("event_dispatch_latency", unit: "s",
        description: "From an event's acceptance to the start of an execution it triggered.");

    private static Func<long> _queueDepth = () => 0;
    private static Func<long> _inFlight = () => 0;

    static ExecutionMetrics()
    {
        Meter.CreateObservableGauge("execution_runtime_queue_depth", () => _queueDepth(), description: "Due or waiting work items known to the runtime.");
        Meter.CreateObservableGauge("execution_runtime_in_flight", () => _inFlight(), description: "Step attempts running in this instance.");
    }

    public static void Observe(Func<long> queueDepth, Func<long> inFlight)
    {
        _queueDepth = queueDepth;
        _inFlight = inFlight;
    }
}
