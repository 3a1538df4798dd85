using Triggers.Modular.Executions.Contracts;

namespace Triggers.Modular.Temporal.Workflows;

/// <summary>What to do next on one active step: <c>run</c> its due attempt, or <c>wake</c> it (a sleep that is over).</summary>
internal sealed record StepAction(string StepId, string Kind, int Attempt)
{
    public const string Run = "run";
    public const string Wake = "wake";
}

/// <summary>The next moves: decide the whole-execution timeout first (<see cref="TimeoutDue"/>), start
/// <see cref="Start"/>, and wake up at <see cref="WakeAt"/> (the earliest back-off, sleep, deadline or hold still ahead).</summary>
internal sealed record Course(bool TimeoutDue, IReadOnlyList<StepAction> Start, DateTimeOffset? WakeAt);

/// <summary>
/// The Temporal workflow's planning, pure: given the execution's view (from the Executions module's decider, through an
/// activity), the workflow time, the steps already in flight and the holds (a step, or the deadline under the key
/// <see cref="Deadline"/>, that made no progress the last time and waits until then), what to start and when to look
/// again. Kept out of the workflow class so that the tests drive the Executions module with the very same choices.
/// </summary>
internal static class ExecutionCourse
{
    /// <summary>The key of the deadline's hold in the holds.</summary>
    public const string Deadline = "";

    /// <summary>How long an action that changed nothing waits before it is tried again (the activity's clock may be a little
    /// behind the workflow's: a wake or a timeout decided too early decides nothing).</summary>
    public static readonly TimeSpan Hold = TimeSpan.FromSeconds(1);

    public static Course Plan(RuntimeView view, DateTimeOffset now, IReadOnlyCollection<string> inFlight, IReadOnlyDictionary<string, DateTimeOffset> holds)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(inFlight);
        ArgumentNullException.ThrowIfNull(holds);
        DateTimeOffset? wakeAt = null;
        void WakeAt(DateTimeOffset at) => wakeAt = wakeAt is { } w && w <= at ? w : at;

        var timeoutDue = false;
        if (view.TimeoutAt is { } deadline && !view.IsTerminal)
        {
            var at = holds.TryGetValue(Deadline, out var hold) && hold > deadline ? hold : deadline;
            if (at <= now) timeoutDue = true;
            else WakeAt(at);
        }

        var start = new List<StepAction>();
        if (view.IsTerminal) return new Course(false, start, null);
        foreach (var step in view.ActiveSteps)
        {
            if (inFlight.Contains(step.StepId)) continue;
            var due = step.Status switch
            {
                "retry_waiting" or "sleeping" => step.DueAt,
                // Held by a worker not in flight here (one that died, a run before this one): delivered again once its lease is over
                // (a running step always has a lease: StepStarted carries one).
                "running" => step.LeaseUntil?.AddTicks(1),
                _ => null,
            };
            if (holds.TryGetValue(step.StepId, out var held) && (due is null || held > due)) due = held;
            if (due is { } d && d > now)
            {
                WakeAt(d);
                continue;
            }

            start.Add(new StepAction(step.StepId, step.Status == "sleeping" ? StepAction.Wake : StepAction.Run, step.Attempt));
        }

        return new Course(timeoutDue, start, wakeAt);
    }

    /// <summary>Whether <paramref name="after"/> moved <paramref name="stepId"/> on from <paramref name="before"/> (another
    /// status or attempt, or it is no longer active).</summary>
    public static bool Moved(RuntimeView before, RuntimeView after, string stepId)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var was = before.ActiveSteps.FirstOrDefault(s => s.StepId == stepId);
        var now = after.ActiveSteps.FirstOrDefault(s => s.StepId == stepId);
        return was is null || now is null || was.Status != now.Status || was.Attempt != now.Attempt || was.DueAt != now.DueAt;
    }
}
