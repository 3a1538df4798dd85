namespace Triggers.Modular.Executions.Contracts.Templates;

/// <summary>
/// A Liquid template could not be rendered: it does not parse, it failed while rendering (an unknown include, a filter
/// given bad arguments), or it went past one of <see cref="TemplateRenderer"/>'s limits. <see cref="Exception.Message"/> is
/// meant for the people who wrote the template.
/// </summary>
public sealed class TemplateRenderException : Exception
{
    public TemplateRenderException()
        : base("The template could not be rendered.")
    {
    }

    public TemplateRenderException(string message)
        : base(message)
    {
    }

    public TemplateRenderException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
