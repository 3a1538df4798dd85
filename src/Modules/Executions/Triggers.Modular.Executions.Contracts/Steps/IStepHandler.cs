using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Triggers.Modular.Executions.Contracts.Steps;

/// <summary>
/// What a step handler gets for one delivery of one step attempt. <see cref="Config"/> is the step's config as written in
/// the definition (templates not yet rendered); <see cref="Context"/> is the template/condition context — an object with
/// <c>trigger</c>, <c>event</c>, <c>steps.&lt;id&gt;.output</c>, <c>execution</c>, <c>tenant</c>, <c>environment</c>.
/// <see cref="IdempotencyKey"/> is <c>{execution_id}:{step_id}</c>: the same for every attempt and every redelivery of the
/// step, so a downstream system can de-duplicate (the <c>http</c> step sends it as <c>Idempotency-Key</c>).
/// </summary>
public sealed record StepExecutionContext(
    string ExecutionId,
    string StepId,
    string StepType,
    int Attempt,
    string IdempotencyKey,
    JsonElement Config,
    JsonElement Context,
    string TenantId,
    string Environment,
    DateTimeOffset Now,
    int? TimeoutSeconds);

/// <summary>How one step attempt ended.</summary>
public abstract record StepOutcome
{
    private StepOutcome()
    {
    }

    /// <summary>Done; <see cref="Output"/> becomes <c>steps.&lt;id&gt;.output</c>.</summary>
    public sealed record Completed(JsonElement Output) : StepOutcome;

    /// <summary>Failed. <see cref="Code"/> is a stable, snake_case error type (<c>http_status</c>, <c>timeout</c>,
    /// <c>address_refused</c>, …); a definition's <c>non_retryable_errors</c> lists such codes. Retryable errors are retried
    /// with back-off; the others fail the step at once.</summary>
    public sealed record Failed(string Code, string Message, bool Retryable, JsonElement? Details = null) : StepOutcome;

    /// <summary>Wait durably until <see cref="Until"/>, then the step completes with <see cref="Output"/> without being
    /// delivered again (the <c>delay</c> step).</summary>
    public sealed record Sleep(DateTimeOffset Until, JsonElement Output) : StepOutcome;

    public static StepOutcome Success(JsonElement output) => new Completed(output);

    public static StepOutcome RetryableError(string code, string message) => new Failed(code, message, true);

    public static StepOutcome NonRetryableError(string code, string message) => new Failed(code, message, false);
}

/// <summary>
/// Runs steps of one type. Delivery is at least once: after a crash a step may run again with the same attempt number, so
/// handlers with side effects should pass <see cref="StepExecutionContext.IdempotencyKey"/> on. Handlers report failures
/// as <see cref="StepOutcome.Failed"/>; an exception thrown is recorded as a retryable <c>handler_error</c>.
/// </summary>
public interface IStepHandler
{
    /// <summary>The step type this handler runs (the <c>type</c> of a step, as in <see cref="IStepType.Name"/>).</summary>
    string StepType { get; }

    ValueTask<StepOutcome> ExecuteAsync(StepExecutionContext step, CancellationToken cancellationToken);

    /// <summary>
    /// True for a handler without side effects that finishes at once — no I/O, no waiting on anything but the CPU (the
    /// built-in <c>set</c> and <c>delay</c>). The embedded runtime runs such a step inside the decision that makes it due and
    /// appends its start and outcome together with that decision: the same events, one write instead of three. Running it
    /// again after a crash is harmless because it touches nothing outside the execution. Leave false for anything that
    /// calls out.
    /// </summary>
    bool RunsInline => false;
}

public static class StepHandlerRegistration
{
    /// <summary>Registers a handler for a step type (register its <see cref="IStepType"/> too, with
    /// <c>AddStepType</c>, so definitions using it validate).</summary>
    public static IServiceCollection AddStepHandler<THandler>(this IServiceCollection services) where THandler : class, IStepHandler =>
        services.AddSingleton<IStepHandler, THandler>();
}
