using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Triggers.Modular.Executions.Contracts.Steps;
using Triggers.Modular.Executions.Contracts.Steps.BuiltIn;
using Triggers.Modular.Executions.Contracts.Templates;

namespace Triggers.Modular.Executions.Steps.BuiltIn;

/// <summary>
/// Runs <c>set</c> steps: renders <c>config.values</c> against the execution's context and completes with the rendered
/// object as output, so <c>{ "values": { "email": "{{ trigger.email }}" } }</c> gives <c>steps.&lt;id&gt;.output.email</c>.
/// Rendering follows <see cref="TemplateRenderer.RenderJson"/>: a value that is exactly one plain <c>{{ path }}</c> keeps
/// the type of what it refers to. A template that fails to render fails the step at once (<c>template_error</c>, not
/// retried: rendering again gives the same result).
/// </summary>
internal sealed class SetStepHandler : IStepHandler
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, MaxDepth = 1_024 };

    public string StepType => SetStepType.TypeName;

    /// <summary>Pure: renders templates against the context and touches nothing else.</summary>
    public bool RunsInline => true;

    public ValueTask<StepOutcome> ExecuteAsync(StepExecutionContext step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (step.Config.ValueKind != JsonValueKind.Object
            || !step.Config.TryGetProperty("values", out var values)
            || values.ValueKind != JsonValueKind.Object)
            return Outcome(new StepOutcome.Failed("invalid_config", "The set step needs a config object with \"values\", an object of names to values.", Retryable: false));

        // Rendered value by value, so a failure names the value whose template failed.
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            foreach (var value in values.EnumerateObject())
            {
                JsonElement rendered;
                try
                {
                    rendered = TemplateRenderer.RenderJson(value.Value, step.Context);
                }
                catch (TemplateRenderException e)
                {
                    return Outcome(new StepOutcome.Failed("template_error", $"values.{value.Name}: {e.Message}", Retryable: false));
                }
                writer.WritePropertyName(value.Name);
                rendered.WriteTo(writer);
            }
            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = 1_024 });
        return Outcome(new StepOutcome.Completed(document.RootElement.Clone()));
    }

    private static ValueTask<StepOutcome> Outcome(StepOutcome outcome) => ValueTask.FromResult(outcome);
}
