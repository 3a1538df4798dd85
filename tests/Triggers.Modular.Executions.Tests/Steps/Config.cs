using System.Text.Json;
using Triggers.Modular.Executions.Contracts.Steps;

namespace Triggers.Modular.Executions.Tests.Steps;

internal static class Config
{
    public static JsonElement Parse(string json, int maxDepth = 64)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = maxDepth });
        return document.RootElement.Clone();
    }

    public static JsonElement Missing => default;

    public static StepConfigError Single(IStepType type, string json) => Assert.Single(type.Validate(Parse(json)));

    public static void Valid(IStepType type, string json) => Assert.Empty(type.Validate(Parse(json)));
}
