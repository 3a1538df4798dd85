using System.Diagnostics;
using FluentValidation;
using Mediator;
using Microsoft.Extensions.Logging;
using Serilog.Context;
using Triggers.Modular.BuildingBlocks.Errors;

namespace Triggers.Modular.BuildingBlocks.Mediation;

/// <summary>One log line per message: its type, outcome and duration, with the correlation id. Never the message
/// body, which may hold secrets. Refusals (validation, API errors, write conflicts answered 409) are information, not errors.</summary>
public sealed partial class LoggingBehavior<TMessage, TResponse>(RequestContext context, ILogger<LoggingBehavior<TMessage, TResponse>> logger)
    : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IMessage
{
    public async ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        var name = typeof(TMessage).Name;
        var started = Stopwatch.GetTimestamp();
        using var _ = LogContext.PushProperty("correlation_id", context.CorrelationId);
        try
        {
            var response = await next(message, cancellationToken);
            LogHandled(logger, name, Stopwatch.GetElapsedTime(started).TotalMilliseconds, context.IdempotentReplay);
            return response;
        }
        catch (Exception ex) when (ex is ValidationException or ApiErrorException or EventStore.WrongExpectedRevisionException)
        {
            LogRefused(logger, name, Stopwatch.GetElapsedTime(started).TotalMilliseconds, ex.GetType().Name);
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFailed(logger, ex, name, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Message} handled in {ElapsedMs:0.0} ms (replayed: {Replayed})")]
    private static partial void LogHandled(ILogger logger, string message, double elapsedMs, bool replayed);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Message} refused in {ElapsedMs:0.0} ms: {Error}")]
    private static partial void LogRefused(ILogger logger, string message, double elapsedMs, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Message} failed after {ElapsedMs:0.0} ms")]
    private static partial void LogFailed(ILogger logger, Exception exception, string message, double elapsedMs);
}
