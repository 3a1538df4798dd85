using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Fluid;
using Fluid.Ast;
using Fluid.Values;

namespace Triggers.Modular.Executions.Contracts.Templates;

/// <summary>
/// Rewrites a parsed template so that rendering it stays bounded where Fluid's own limits (<c>MaxSteps</c>,
/// <c>MaxRecursion</c>) do not reach: a range such as <c>(1..100000000)</c> is built in full before a loop takes its first
/// step, and text written into a <c>capture</c> or <c>ifchanged</c> buffer never reaches the caller's writer. So every
/// range is checked against <see cref="TemplateRenderer.MaxRangeLength"/>, and every piece of output (text, <c>{{ }}</c>,
/// <c>raw</c>) is charged to the render's <see cref="RenderBudget"/>, whichever writer it goes to.
/// </summary>
internal sealed class TemplateGuard : AstRewriter
{
    public static IFluidTemplate Apply(IFluidTemplate template) => new TemplateGuard().VisitTemplate(template);

    protected override Expression VisitRangeExpression(RangeExpression rangeExpression) =>
        new BoundedRangeExpression(rangeExpression);

    protected override Statement VisitOutputStatement(OutputStatement outputStatement) =>
        new ChargedStatement(base.VisitOutputStatement(outputStatement));

    protected override Statement VisitTextSpanStatement(TextSpanStatement textSpanStatement) =>
        new ChargedStatement(textSpanStatement);

    protected override Statement VisitRawStatement(RawStatement rawStatement) =>
        new ChargedStatement(rawStatement);
}

/// <summary>A limit of <see cref="TemplateRenderer"/> was reached; reported as a <see cref="TemplateRenderException"/>.</summary>
internal sealed class TemplateLimitException(string message) : Exception(message);

/// <summary>How many characters one render (one <see cref="TemplateRenderer.RenderString"/> or
/// <see cref="TemplateRenderer.RenderJson"/> call) has produced: output, captured text and assigned strings.</summary>
internal sealed class RenderBudget
{
    private const string Key = "Triggers.Modular.RenderBudget";
    private long _used;

    public static RenderBudget Of(TemplateContext context)
    {
        if (context.AmbientValues.TryGetValue(Key, out var existing) && existing is RenderBudget budget)
            return budget;
        budget = new RenderBudget();
        context.AmbientValues[Key] = budget;
        return budget;
    }

    public void Charge(long characters)
    {
        _used += characters;
        if (_used > TemplateRenderer.MaxRenderedCharacters)
            throw new TemplateLimitException(
                $"The template produces more than {TemplateRenderer.MaxRenderedCharacters.ToString("N0", CultureInfo.InvariantCulture)} characters.");
    }
}

/// <summary><c>(from..to)</c>, refused when it would hold more than <see cref="TemplateRenderer.MaxRangeLength"/> numbers.</summary>
internal sealed class BoundedRangeExpression(RangeExpression range) : Expression
{
    public override async ValueTask<FluidValue> EvaluateAsync(TemplateContext context)
    {
        var from = (await range.From.EvaluateAsync(context).ConfigureAwait(false)).ToNumberValue();
        var to = (await range.To.EvaluateAsync(context).ConfigureAwait(false)).ToNumberValue();
        if (Math.Truncate(to) - Math.Truncate(from) >= TemplateRenderer.MaxRangeLength)
            throw new TemplateLimitException(
                $"The range ({from.ToString(CultureInfo.InvariantCulture)}..{to.ToString(CultureInfo.InvariantCulture)}) is longer than "
                + $"{TemplateRenderer.MaxRangeLength.ToString("N0", CultureInfo.InvariantCulture)} numbers.");
        return await range.EvaluateAsync(context).ConfigureAwait(false);
    }
}

/// <summary>Runs a statement that writes output, charging what it writes to the render's budget.</summary>
internal sealed class ChargedStatement(Statement inner) : Statement
{
    public override ValueTask<Completion> WriteToAsync(TextWriter writer, TextEncoder encoder, TemplateContext context) =>
        inner.WriteToAsync(new ChargingWriter(writer, RenderBudget.Of(context)), encoder, context);
}

/// <summary>Passes writes through to another writer (which it does not own) and charges them to a budget.</summary>
internal sealed class ChargingWriter(TextWriter inner, RenderBudget budget) : TextWriter(CultureInfo.InvariantCulture)
{
    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        budget.Charge(1);
        inner.Write(value);
    }

    public override void Write(char[] buffer, int index, int count)
    {
        budget.Charge(count);
        inner.Write(buffer, index, count);
    }

    public override void Write(ReadOnlySpan<char> buffer)
    {
        budget.Charge(buffer.Length);
        inner.Write(buffer);
    }

    public override void Write(string? value)
    {
        budget.Charge(value?.Length ?? 0);
        inner.Write(value);
    }

    public override Task WriteAsync(char value)
    {
        Write(value);
        return Task.CompletedTask;
    }

    public override Task WriteAsync(string? value)
    {
        Write(value);
        return Task.CompletedTask;
    }

    public override Task WriteAsync(char[] buffer, int index, int count)
    {
        Write(buffer, index, count);
        return Task.CompletedTask;
    }

    public override Task WriteAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return Task.CompletedTask;
    }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync() => inner.FlushAsync();
}
