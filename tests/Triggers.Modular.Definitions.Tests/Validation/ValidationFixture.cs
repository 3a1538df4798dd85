using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation.Results;
using Microsoft.Extensions.DependencyInjection;
using Triggers.Modular.Definitions.Model;
using Triggers.Modular.Definitions.Validation;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Executions.Contracts.Steps.BuiltIn;

namespace Triggers.Modular.Definitions.Tests.Validation;

/// <summary>Builds documents from JSON the way the API reads them (snake_case) and validates them against the built-in
/// step types from Executions.Contracts.</summary>
internal static class ValidationFixture
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        MaxDepth = 4096,
    };

    public static readonly IStepTypeRegistry Registry = new ServiceCollection()
        .AddBuiltInStepTypes()
        .BuildServiceProvider()
        .GetRequiredService<IStepTypeRegistry>();

    public static readonly DefinitionValidator Validator = new(Registry);

    public const string Minimal = """
        {
          "name": "Minimal",
          "steps": [ { "id": "a", "type": "delay", "config": { "seconds": 1 } } ]
        }
        """;

    public static DefinitionDocument Parse(string json) =>
        JsonSerializer.Deserialize<DefinitionDocument>(json, Json) ?? throw new InvalidOperationException("null document");

    /// <summary>The minimal valid definition with one change applied.</summary>
    public static DefinitionDocument With(Action<JsonObject> change)
    {
        var node = JsonNode.Parse(Minimal)!.AsObject();
        change(node);
        return Parse(node.ToJsonString(Json));
    }

    public static IReadOnlyList<ValidationFailure> Validate(DefinitionDocument document) => Validator.Validate(document);

    public static IReadOnlyList<ValidationFailure> Validate(Action<JsonObject> change) => Validate(With(change));

    public static JsonNode Node(string json) => JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 4096 })!;

    public static void HasError(IReadOnlyList<ValidationFailure> failures, string path, string fragment) =>
        Assert.True(failures.Any(f => f.PropertyName == path && f.ErrorMessage.Contains(fragment, StringComparison.Ordinal)),
            $"expected an error at '{path}' containing '{fragment}'; got:\n{Describe(failures)}");

    public static void HasOnlyError(IReadOnlyList<ValidationFailure> failures, string path, string fragment)
    {
        HasError(failures, path, fragment);
        Assert.True(failures.Count == 1, $"expected exactly one error; got:\n{Describe(failures)}");
    }

    public static void IsValid(IReadOnlyList<ValidationFailure> failures) =>
        Assert.True(failures.Count == 0, $"expected no errors; got:\n{Describe(failures)}");

    private static string Describe(IReadOnlyList<ValidationFailure> failures) =>
        failures.Count == 0 ? "(none)" : string.Join("\n", failures.Select(f => $"  {f.PropertyName}: {f.ErrorMessage}"));
}
