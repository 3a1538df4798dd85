using FluentValidation;
using Mediator;

namespace Triggers.Modular.BuildingBlocks.Mediation;

/// <summary>Runs every FluentValidation validator of the message; any failure → <see cref="ValidationException"/> (400
/// problem+json with one entry per field), before anything is stored.</summary>
public sealed class ValidationBehavior<TMessage, TResponse>(IEnumerable<IValidator<TMessage>> validators) : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IMessage
{
    public async ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        List<FluentValidation.Results.ValidationFailure>? failures = null;
        foreach (var validator in validators)
        {
            var result = await validator.ValidateAsync(message, cancellationToken);
            if (!result.IsValid) (failures ??= []).AddRange(result.Errors);
        }

        if (failures is not null) throw new ValidationException(failures);
        return await next(message, cancellationToken);
    }
}
