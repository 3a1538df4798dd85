using Mediator;
using Serilog.Context;
using Triggers.Modular.BuildingBlocks.Errors;

namespace Triggers.Modular.BuildingBlocks.Mediation;

/// <summary>Refuses a tenant-scoped message without a tenant × environment, and puts the scope on every log line
/// written while the message is handled.</summary>
public sealed class TenantBehavior<TMessage, TResponse>(RequestContext context) : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IMessage
{
    public async ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        if (context.Tenant is not { } scope)
        {
            if (message is ITenantScoped) throw new UnauthenticatedException("This operation needs a tenant and an environment.");
            return await next(message, cancellationToken);
        }

        using (LogContext.PushProperty("tenant", scope.TenantId))
        using (LogContext.PushProperty("environment", scope.Environment))
            return await next(message, cancellationToken);
    }
}
