using FluentValidation;
using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.Errors;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.Triggers.Contracts;
using Triggers.Modular.Triggers.Domain;
using Triggers.Modular.Triggers.Webhooks;

namespace Triggers.Modular.Triggers.Resources;

/// <summary>Replaces a webhook trigger's secret: the new one verifies at once, the previous ones for
/// <see cref="OverlapSeconds"/> more (default <c>Triggers:Webhooks:DefaultRotationOverlapSeconds</c>, 24 h; 0 ends them
/// now). <see cref="Secret"/> sets the new secret instead of generating one (to keep a sender's existing secret).</summary>
internal sealed record RotateWebhookSecret(string Id, int? OverlapSeconds, string? Secret) : ICommand<WebhookSecretIssued>, ITenantScoped;

/// <summary>The answer of a rotation, the only time the new secret is shown.</summary>
internal sealed record WebhookSecretIssued(string TriggerId, string? WebhookUrl, string WebhookSecret, int SecretVersion, DateTimeOffset PreviousSecretExpiresAt);

internal sealed class RotateWebhookSecretValidator : AbstractValidator<RotateWebhookSecret>
{
    public const int MinSecretLength = 16;
    public const int MaxSecretLength = 512;

    public RotateWebhookSecretValidator(WebhookOptions options)
    {
        RuleFor(c => c.OverlapSeconds).InclusiveBetween(0, options.MaxRotationOverlapSeconds).When(c => c.OverlapSeconds is not null)
            .WithMessage($"overlap_seconds must be 0 to {options.MaxRotationOverlapSeconds} (how long the previous secret keeps verifying).");
        RuleFor(c => c.Secret!).Must(s => s.Length is >= MinSecretLength and <= MaxSecretLength && s.All(c => c is >= ' ' and < (char)127) && s.Trim().Length == s.Length)
            .When(c => c.Secret is not null)
            .WithMessage($"secret must be {MinSecretLength} to {MaxSecretLength} printable ASCII characters (spaces inside allowed, not at either end); leave it out to have one generated.");
    }
}

internal sealed class RotateWebhookSecretHandler(CommandHandler handler, RequestContext context, TimeProvider clock, WebhookSecrets secrets,
    WebhookOptions options, WebhookUrls urls, WebhookTriggerCache cache) : ICommandHandler<RotateWebhookSecret, WebhookSecretIssued>
{
    public async ValueTask<WebhookSecretIssued> Handle(RotateWebhookSecret command, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        var state = await handler.LoadOwnedAsync(scope, command.Id, cancellationToken).ConfigureAwait(false);
        if (state.Type != "webhook")
            throw new ConflictException($"Trigger '{state.Id}' is a {state.Type} trigger; only webhook triggers have a secret.", "not-a-webhook");
        var config = WebhookConfig.From(state.Config);
        if (command.Secret is { } given && config is { AuthType: "hmac", HmacScheme: "standard" }
            && WebhookSignatures.StandardKey(given) is not { Length: >= 24 and <= 64 })
            throw new ValidationException([TriggerInputRules.Failure("secret",
                "a Standard Webhooks secret is whsec_ followed by the base64 of 24 to 64 random bytes.")]);

        var secret = command.Secret ?? WebhookSecrets.Generate(config.AuthType);
        var now = clock.GetUtcNow();
        var until = now.AddSeconds(command.OverlapSeconds ?? options.DefaultRotationOverlapSeconds);
        var version = await secrets.RotateAsync(state.Id, secret, until, cancellationToken).ConfigureAwait(false);
        await handler.HandleAsync(TriggerDecider.Instance, TriggerEventTypes.StreamFor(state.Id),
            new TriggerCommand.RotateSecret(state.Id, scope.TenantId, scope.Environment, version, until, now), context.ToMetadata(), maxAttempts: 3,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        cache.Invalidate(state.Id);
        return new WebhookSecretIssued(state.Id, urls.For(state.Id, state.Type), secret, version, until);
    }
}
