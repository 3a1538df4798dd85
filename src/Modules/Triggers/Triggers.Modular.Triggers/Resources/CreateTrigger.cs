using System.Text.Json;
using FluentValidation;
using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Ids;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.Triggers.Contracts;
using Triggers.Modular.Triggers.Domain;

namespace Triggers.Modular.Triggers.Resources;

/// <summary>Creates a trigger (<c>source: api</c>) linked to a workflow definition of the caller's tenant × environment;
/// <see cref="Enabled"/> defaults to true and an absent <see cref="Config"/> is <c>{}</c>.</summary>
internal sealed record CreateTrigger(string? WorkflowId, string? Name, string? Type, bool? Enabled, JsonElement? Config)
    : ICommand<TriggerDto>, ITenantScoped, IIdempotentCommand;

/// <summary>Runs before the idempotency behaviour, so an invalid request never claims a key; the workflow lookup reads the
/// definition's stream, so a definition created just before is found.</summary>
internal sealed class CreateTriggerValidator : AbstractValidator<CreateTrigger>
{
    public CreateTriggerValidator(IDefinitionsModule definitions, RequestContext context) =>
        RuleFor(c => c).CustomAsync(async (command, validation, ct) =>
        {
            var failures = await TriggerInputRules.CheckAsync(definitions, context.RequireTenant(), command.WorkflowId, command.Name, command.Type,
                command.Config, ct).ConfigureAwait(false);
            foreach (var failure in failures) validation.AddFailure(failure);
        });
}

internal sealed class CreateTriggerHandler(CommandHandler handler, RequestContext context, TimeProvider clock, Webhooks.WebhookSecrets secrets,
    Webhooks.WebhookUrls urls) : ICommandHandler<CreateTrigger, TriggerDto>
{
    public async ValueTask<TriggerDto> Handle(CreateTrigger command, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        // With an Idempotency-Key the id (and so the stream and the event ids) follow from the key: a re-run after a crash
        // finds its own trigger instead of creating a second one.
        var id = context.IdempotencyKey is { } key
            ? PrefixedId.From("trg", DeterministicId.Create($"{scope.TenantId}/{scope.Environment}/{key}/CreateTrigger"))
            : PrefixedId.New("trg", clock);
        var stream = TriggerEventTypes.StreamFor(id);
        var config = TriggerInputRules.ConfigOrEmpty(command.Config);
        // A webhook's secret is stored before its trigger exists (a request cannot find the trigger before the append), and
        // replaced when a create retried under the same key runs again before its trigger was stored. A retry that finds the
        // trigger stored (its idempotency record expired or was never written) answers it without a secret and changes none.
        string? secret = null;
        if (command.Type == "webhook" && Webhooks.WebhookConfig.From(config) is { UsesSecret: true } webhook
            && (context.IdempotencyKey is null || !(await handler.LoadAsync(TriggerDecider.Instance, stream, cancellationToken).ConfigureAwait(false)).State.Exists))
        {
            secret = Webhooks.WebhookSecrets.Generate(webhook.AuthType);
            await secrets.ReplaceInitialAsync(id, secret, cancellationToken).ConfigureAwait(false);
        }

        var result = await handler.HandleAsync(TriggerDecider.Instance, stream,
            new TriggerCommand.Create(id, scope.TenantId, scope.Environment, command.WorkflowId!, command.Name!, command.Type!, command.Enabled ?? true,
                config, TriggerViews.SourceApi, clock.Now()),
            context.ToMetadata(), CommandEventIds.From(context, nameof(CreateTrigger), stream), cancellationToken: cancellationToken).ConfigureAwait(false);
        return result.State.ToDto(urls, secret);
    }
}
