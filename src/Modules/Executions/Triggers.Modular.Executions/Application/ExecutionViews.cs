using System.Text.Json;
using Triggers.Modular.Executions.Domain;

namespace Triggers.Modular.Executions.Application;

internal sealed record ErrorDto(string Code, string Message);

internal sealed record ExecutionErrorDto(string Reason, string? StepId, string Code, string Message);

internal sealed record AttemptDto(int Attempt, string Outcome, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string? Worker, ErrorDto? Error);

internal sealed record StepDto(string Id, string? Name, string Type, int Order, string Status, int Attempt, JsonElement? Output, ErrorDto? Error,
    string? Reason, string? ReasonCode, DateTimeOffset? WaitingUntil, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt,
    IReadOnlyList<AttemptDto> Attempts);

/// <summary>One execution as read from its stream: never behind the last acknowledged change.</summary>
internal sealed record ExecutionDto(string Id, string WorkflowId, int WorkflowVersion, string Status, string TriggerType, string? TriggerRef,
    JsonElement TriggerData, JsonElement? Event, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? FinishedAt,
    DateTimeOffset? TimeoutAt, ExecutionErrorDto? Error, int Retries, bool CancelRequested, IReadOnlyList<StepDto> Steps);

internal sealed record ExecutionSummaryDto(string Id, string WorkflowId, int WorkflowVersion, string Status, string TriggerType, string? TriggerRef,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? FinishedAt, ErrorDto? Error);

internal sealed record ExecutionList(IReadOnlyList<ExecutionSummaryDto> Items, string? NextCursor, int Limit);

internal sealed record HistoryMetadataDto(string? Actor, string? CorrelationId, string? CausationId);

internal sealed record HistoryEventDto(long Revision, string Position, string Type, DateTimeOffset RecordedAt, JsonElement Data, HistoryMetadataDto Metadata);

internal sealed record ExecutionHistory(string ExecutionId, IReadOnlyList<HistoryEventDto> Events);

internal sealed record ExecutionAccepted(string ExecutionId, string Status);

internal static class ExecutionViews
{
    public static ExecutionDto ToDto(this ExecutionState s, ExecutionPlan plan) => new(
        s.Id, s.WorkflowId, s.WorkflowVersion, StepStatusNames.Of(s.Status), s.TriggerType, s.TriggerRef, s.Payload, s.Event, s.CreatedAt, s.UpdatedAt,
        s.FinishedAt, s.TimeoutAt, s.Error is { } e ? new ExecutionErrorDto(e.Reason, e.StepId, e.Code, e.Message) : null, s.Retries, s.CancelRequested,
        plan.Steps.Select(p => Step(p, s.Steps.TryGetValue(p.Id, out var st) ? st : StepState.New(p.Id))).ToList());

    private static StepDto Step(PlannedStep p, StepState s) => new(
        p.Id, p.Name, p.Type, p.Order, StepStatusNames.Of(s.Status), s.Attempt,
        s.Status == StepStatus.Completed ? s.Output : null,
        s.ErrorCode is { } code ? new ErrorDto(code, s.Error ?? "") : null,
        s.Reason, s.ReasonCode,
        s.Status is StepStatus.RetryWaiting or StepStatus.Sleeping ? s.DueAt : null,
        s.StartedAt, s.FinishedAt,
        s.Attempts.Select(a => new AttemptDto(a.Attempt, a.Outcome, a.StartedAt, a.FinishedAt, a.Worker,
            a.ErrorCode is { } c ? new ErrorDto(c, a.Error ?? "") : null)).ToList());
}
