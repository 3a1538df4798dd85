using System.Text.Json;
using FluentValidation;
using Mediator;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.Triggers.Routing;

namespace Triggers.Modular.Triggers.Events;

/// <summary>Which triggers of the caller's tenant × environment an event <c>{ name, payload }</c> would fire, and why the others
/// would not — checked like a send (400 with field errors), routed like a send, but nothing is stored and nothing starts.</summary>
internal sealed record DryRunEvent(string? Name, JsonElement? Payload) : IQuery<EventDryRun>, ITenantScoped;

/// <summary>
/// The answer of a dry run. <see cref="WouldFire"/>: the triggers that would each start an execution. <see cref="WouldNotFire"/>:
/// the others, each with a <c>reason</c> — what routing records (<c>definition_missing</c>, <c>definition_disabled</c>,
/// <c>schema_failed</c> with the payload's errors and their paths, <c>condition_false</c> with the failing leaf), or, reported
/// by the dry run only, <c>trigger_disabled</c> (a disabled trigger listening to the name) and <c>name_mismatch</c> (an enabled
/// trigger listening to a name a typo or two away). <see cref="Unrouted"/>: no enabled trigger listens to the name, so a real
/// send would be recorded as unrouted.
/// </summary>
internal sealed record EventDryRun(string Name, IReadOnlyList<DryRunFiring> WouldFire, IReadOnlyList<DryRunSkip> WouldNotFire, bool Unrouted);

internal sealed record DryRunFiring(string TriggerId, string WorkflowId, string TriggerName);

internal sealed record DryRunSkip(string TriggerId, string WorkflowId, string TriggerName, string Reason, IReadOnlyList<string> Details);

internal sealed class DryRunEventValidator : AbstractValidator<DryRunEvent>
{
    public DryRunEventValidator(EventOptions options) =>
        RuleFor(c => c).Custom((query, context) =>
        {
            foreach (var failure in EventRules.Check(query.Name, query.Payload, options)) context.AddFailure(failure);
        });
}

/// <summary>Asks the dispatcher for its verdicts on the event, as it would route it now; appends nothing.</summary>
internal sealed class DryRunEventHandler(EventDispatcher dispatcher, RequestContext context) : IQueryHandler<DryRunEvent, EventDryRun>
{
    public async ValueTask<EventDryRun> Handle(DryRunEvent query, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        var (verdicts, unrouted) = await dispatcher.DryRunAsync(scope.TenantId, scope.Environment, query.Name!, EventRules.PayloadOrEmpty(query.Payload),
            cancellationToken).ConfigureAwait(false);
        return new EventDryRun(query.Name!,
            [.. verdicts.Where(v => v.Fires).Select(v => new DryRunFiring(v.TriggerId, v.WorkflowId, v.TriggerName))],
            [.. verdicts.Where(v => !v.Fires).Select(v => new DryRunSkip(v.TriggerId, v.WorkflowId, v.TriggerName, v.Reason!, v.Details))],
            unrouted);
    }
}
