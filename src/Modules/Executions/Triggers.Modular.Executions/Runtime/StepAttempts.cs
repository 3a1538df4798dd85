using System.Text.Json;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Executions.Domain;

namespace Triggers.Modular.Executions.Runtime;

/// <summary>
/// One step attempt as every runtime runs it (the embedded runtime and, through the runtime port, the Temporal workflow's
/// activities): the handler for the step's type, under the step's timeout, its failures turned into outcomes
/// (<c>timeout</c> and <c>handler_error</c> retryable, <c>unknown_step_type</c> not), its output capped.
/// </summary>
internal sealed class StepAttempts
{
    private readonly Dictionary<string, IStepHandler> _handlers = new(StringComparer.Ordinal);
    private readonly RuntimeOptions _options;

    public StepAttempts(IEnumerable<IStepHandler> handlers, RuntimeOptions options)
    {
        foreach (var handler in handlers) _handlers[handler.StepType] = handler; // the last registered wins: hosts can replace built-ins
        _options = options;
    }

    public IStepHandler? HandlerFor(string stepType) => _handlers.GetValueOrDefault(stepType);

    /// <summary>The attempt's timeout: the step's own, else its type's (<c>timeout_seconds</c> in its config, plus a little
    /// slack), else <see cref="RuntimeOptions.DefaultStepTimeoutSeconds"/>.</summary>
    public TimeSpan TimeoutOf(PlannedStep step)
    {
        if (step.TimeoutSeconds is > 0 and var seconds) return TimeSpan.FromSeconds(seconds);
        if (step.Config.ValueKind == JsonValueKind.Object && step.Config.TryGetProperty("timeout_seconds", out var t)
            && t.TryGetInt32(out var own) && own > 0)
            return TimeSpan.FromSeconds(Math.Min(own + 5, _options.DefaultStepTimeoutSeconds));
        return TimeSpan.FromSeconds(_options.DefaultStepTimeoutSeconds);
    }

    /// <summary>Until when the worker holds an attempt that starts at <paramref name="now"/>: its timeout plus
    /// <see cref="RuntimeOptions.LeaseGraceSeconds"/> (a worker that dies has the attempt delivered again after that).</summary>
    public DateTimeOffset LeaseUntil(DateTimeOffset now, TimeSpan timeout) => now + timeout + TimeSpan.FromSeconds(_options.LeaseGraceSeconds);

    /// <summary>What the handler of <paramref name="planned"/> gets for this attempt, given the execution's state once it began.</summary>
    public static StepExecutionContext Context(ExecutionState state, ExecutionPlan plan, PlannedStep planned, int attempt, DateTimeOffset now, TimeSpan timeout) =>
        new(state.Id, planned.Id, planned.Type, attempt, $"{state.Id}:{planned.Id}", planned.Config, ExecutionContextBuilder.Build(state, plan),
            state.TenantId, state.Environment, now, (int)timeout.TotalSeconds);

    /// <summary>Runs the handler; null when <paramref name="abandon"/> stopped it (shutting down, the execution ended, the
    /// caller was cancelled) — no outcome to record then.</summary>
    public async Task<StepOutcome?> InvokeAsync(PlannedStep planned, StepExecutionContext step, TimeSpan timeout, CancellationToken abandon)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(abandon);
        linked.CancelAfter(timeout);
        try
        {
            return _handlers.TryGetValue(planned.Type, out var handler)
                ? await handler.ExecuteAsync(step, linked.Token).ConfigureAwait(false)
                : StepOutcome.NonRetryableError("unknown_step_type", $"No handler for step type '{planned.Type}' is registered in this host.");
        }
        catch (OperationCanceledException) when (abandon.IsCancellationRequested)
        {
            return null;
        }
        catch (OperationCanceledException)
        {
            return StepOutcome.RetryableError("timeout", $"The step did not finish within its timeout of {timeout.TotalSeconds:0} s.");
        }
        catch (Exception ex)
        {
            return StepOutcome.RetryableError("handler_error", $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>Fails an outcome whose output is over the limit; returns the output's size as JSON too.</summary>
    public (StepOutcome Outcome, int OutputBytes) CapOutput(StepOutcome outcome)
    {
        var output = outcome switch
        {
            StepOutcome.Completed c => c.Output,
            StepOutcome.Sleep s => s.Output,
            _ => default,
        };
        if (output.ValueKind == JsonValueKind.Undefined) return (outcome, 0);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(output, EventSerializer.Options).Length;
        return bytes <= _options.MaxStepOutputBytes
            ? (outcome, bytes)
            : (StepOutcome.NonRetryableError("output_too_large",
                $"The step's output is {bytes} bytes as JSON, over the limit of {_options.MaxStepOutputBytes} (Executions:Runtime:MaxStepOutputBytes)."), 0);
    }
}
