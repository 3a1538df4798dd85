namespace Triggers.Modular.Executions.Contracts.Conditions;

/// <summary>
/// Whether a condition held and, when it did not, a short reason naming the leaf that failed, such as
/// <c>steps.a.output.status eq 201: was 500</c>. <see cref="Reason"/> is null when <see cref="Holds"/> is true.
/// </summary>
public sealed record ConditionResult(bool Holds, string? Reason)
{
    public static ConditionResult True { get; } = new(true, null);

    public static ConditionResult False(string reason) => new(false, reason);
}
