namespace Triggers.Modular.Tenancy.Common;

/// <summary>The list envelope: <c>{ "items": [...] }</c>.</summary>
internal sealed record ItemsResponse<T>(IReadOnlyList<T> Items);
