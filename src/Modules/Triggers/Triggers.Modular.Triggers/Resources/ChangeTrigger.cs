using System.Text.Json;
using FluentValidation;
using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.Triggers.Contracts;
using Triggers.Modular.Triggers.Domain;

namespace Triggers.Modular.Triggers.Resources;

/// <summary>Replaces a trigger's workflow, name and config (absent config → <c>{}</c>); <see cref="Enabled"/> null keeps the status.
/// The type never changes: <see cref="Type"/> may be left out, and must match when sent.</summary>
internal sealed record UpdateTrigger(string Id, string? WorkflowId, string? Name, string? Type, bool? Enabled, JsonElement? Config)
    : ICommand<TriggerDto>, ITenantScoped;

/// <summary>Enables or disables a trigger, also one declared in a definition. Doing it twice is a no-op.</summary>
internal sealed record SetTriggerEnabled(string Id, bool Enabled) : ICommand<TriggerDto>, ITenantScoped, IIdempotentCommand;

/// <summary>Deletes a trigger (its history stays in the store for audit); it stops firing at once.</summary>
internal sealed record DeleteTrigger(string Id) : ICommand<bool>, ITenantScoped;

/// <summary>Order of answers: 404 (not the caller's), 409 (declared in a definition), then 400 with every invalid field.</summary>
internal sealed class ChangeTriggerHandler(CommandHandler handler, RequestContext context, TimeProvider clock, IDefinitionsModule definitions,
    Webhooks.WebhookSecrets secrets, Webhooks.WebhookUrls urls, Webhooks.WebhookRateLimits limits, Webhooks.WebhookTriggerCache cache)
    : ICommandHandler<UpdateTrigger, TriggerDto>, ICommandHandler<SetTriggerEnabled, TriggerDto>, ICommandHandler<DeleteTrigger, bool>
{
    public async ValueTask<TriggerDto> Handle(UpdateTrigger command, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        var state = await handler.LoadOwnedAsync(scope, command.Id, cancellationToken).ConfigureAwait(false);
        state.RefuseIfOwnedByDefinition("changed");
        var failures = await TriggerInputRules.CheckAsync(definitions, scope, command.WorkflowId, command.Name, state.Type, command.Config, cancellationToken)
            .ConfigureAwait(false);
        if (command.Type is not null && command.Type != state.Type)
            failures.Insert(0, TriggerInputRules.Failure("type",
                $"the type of a trigger cannot change (this one is '{state.Type}'); leave type out, or delete this trigger and create another."));
        if (failures.Count > 0) throw new ValidationException(failures);

        // A concurrent change is decided again on the newer state: this is a full replacement, whatever came before it.
        var result = await handler.HandleAsync(TriggerDecider.Instance, TriggerEventTypes.StreamFor(command.Id),
            new TriggerCommand.Update(command.Id, scope.TenantId, scope.Environment, command.WorkflowId!, command.Name!, command.Enabled,
                TriggerInputRules.ConfigOrEmpty(command.Config), clock.Now()),
            context.ToMetadata(), maxAttempts: 3, cancellationToken: cancellationToken).ConfigureAwait(false);
        string? secret;
        try
        {
            secret = await IssueSecretIfNeededAsync(scope, state, result.State, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            cache.Invalidate(command.Id); // also when issuing the secret failed: the change itself is stored
        }

        return result.State.ToDto(urls, secret);
    }

    /// <summary>A webhook that now needs a secret and never had one gets it here, shown once in the answer; one whose auth type
    /// or HMAC scheme changed gets a new one at once (the old one ends now): a bearer token is no Standard Webhooks key, and
    /// a change of how callers authenticate is a change of credentials.</summary>
    private async Task<string?> IssueSecretIfNeededAsync(TenantScope scope, TriggerState before, TriggerState after, CancellationToken cancellationToken)
    {
        if (after.Type != "webhook" || Webhooks.WebhookConfig.From(after.Config) is not { UsesSecret: true } webhook) return null;
        var previous = Webhooks.WebhookConfig.From(before.Config);
        var candidate = Webhooks.WebhookSecrets.Generate(webhook.AuthType);
        if (previous.AuthType == webhook.AuthType && previous.HmacScheme == webhook.HmacScheme)
            return await secrets.IssueAsync(after.Id, candidate, cancellationToken).ConfigureAwait(false) ? candidate : null;

        var now = clock.GetUtcNow();
        var version = await secrets.RotateAsync(after.Id, candidate, now, cancellationToken).ConfigureAwait(false);
        await handler.HandleAsync(TriggerDecider.Instance, TriggerEventTypes.StreamFor(after.Id),
            new TriggerCommand.RotateSecret(after.Id, scope.TenantId, scope.Environment, version, now, now), context.ToMetadata(), maxAttempts: 3,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return candidate;
    }

    public async ValueTask<TriggerDto> Handle(SetTriggerEnabled command, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        await handler.LoadOwnedAsync(scope, command.Id, cancellationToken).ConfigureAwait(false); // 404 for a malformed id too
        TriggerCommand change = command.Enabled
            ? new TriggerCommand.Enable(command.Id, scope.TenantId, scope.Environment, clock.Now())
            : new TriggerCommand.Disable(command.Id, scope.TenantId, scope.Environment, clock.Now());
        var result = await handler.HandleAsync(TriggerDecider.Instance, TriggerEventTypes.StreamFor(command.Id), change, context.ToMetadata(),
            maxAttempts: 3, cancellationToken: cancellationToken).ConfigureAwait(false);
        cache.Invalidate(command.Id);
        return result.State.ToDto(urls);
    }

    public async ValueTask<bool> Handle(DeleteTrigger command, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        var state = await handler.LoadOwnedAsync(scope, command.Id, cancellationToken).ConfigureAwait(false);
        state.RefuseIfOwnedByDefinition("deleted");
        await handler.HandleAsync(TriggerDecider.Instance, TriggerEventTypes.StreamFor(command.Id),
            new TriggerCommand.Delete(command.Id, scope.TenantId, scope.Environment, clock.Now()), context.ToMetadata(),
            maxAttempts: 3, cancellationToken: cancellationToken).ConfigureAwait(false);
        await secrets.DeleteAsync(command.Id, cancellationToken).ConfigureAwait(false);
        limits.Forget(command.Id);
        cache.Invalidate(command.Id);
        return true;
    }
}
