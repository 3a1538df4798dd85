using FluentValidation;
using Mediator;
using Triggers.Modular.Architecture.Tests.Support;
using static Triggers.Modular.Architecture.Tests.Support.Repository;

namespace Triggers.Modular.Architecture.Tests;

/// <summary>Rule 3: handlers and validators are module internals; other modules send messages, they never call a handler.</summary>
public sealed class HandlerVisibilityTests
{
    internal static readonly Type[] HandlerInterfaces =
    [
        typeof(ICommandHandler<,>), typeof(ICommandHandler<>), typeof(IQueryHandler<,>), typeof(IRequestHandler<,>),
        typeof(IRequestHandler<>), typeof(INotificationHandler<>), typeof(IStreamCommandHandler<,>), typeof(IStreamQueryHandler<,>),
        typeof(IStreamRequestHandler<,>), typeof(IValidator),
    ];

    internal static bool IsHandlerOrValidator(Type type) => !type.IsInterface && TypeShape.Implements(type, HandlerInterfaces);

    [Theory]
    [MemberData(nameof(ModuleProjectData), MemberType = typeof(Repository))]
    public void Given_a_module_assembly_When_handlers_and_validators_are_found_Then_none_is_visible_outside_it(string assembly)
    {
        var offenders = TypesOf(assembly).Where(t => IsHandlerOrValidator(t) && TypeShape.IsVisibleOutsideAssembly(t))
            .Select(t => t.FullName!);

        Expect.None(offenders, $"Public handlers or validators in {assembly} (make them internal sealed)");
    }

    [Fact]
    public void Given_sample_types_When_classified_Then_handlers_and_validators_are_recognised_and_others_are_not()
    {
        Assert.True(IsHandlerOrValidator(typeof(Samples.SampleValidator)));
        Assert.True(IsHandlerOrValidator(typeof(Samples.SampleCommandHandler)));
        Assert.True(IsHandlerOrValidator(typeof(Samples.SampleNotificationHandler)));
        Assert.False(IsHandlerOrValidator(typeof(Samples.SampleCommand)));
        Assert.False(IsHandlerOrValidator(typeof(HandlerVisibilityTests)));
    }

    [Fact]
    public void Given_nested_types_When_visibility_is_checked_Then_the_declaring_types_visibility_counts()
    {
        Assert.True(TypeShape.IsVisibleOutsideAssembly(typeof(HandlerVisibilityTests)));
        Assert.True(TypeShape.IsVisibleOutsideAssembly(typeof(PublicNested)));
        Assert.False(TypeShape.IsVisibleOutsideAssembly(typeof(Samples)));
        Assert.False(TypeShape.IsVisibleOutsideAssembly(typeof(Samples.SampleValidator)));
    }

    public sealed class PublicNested;

    internal static class Samples
    {
        public sealed record SampleCommand : ICommand;

        public sealed record SampleNotification : INotification;

        // Public inside an internal class: not reachable from another assembly.
        public sealed class SampleValidator : AbstractValidator<SampleCommand>;

        public sealed class SampleCommandHandler : ICommandHandler<SampleCommand>
        {
            public ValueTask<Unit> Handle(SampleCommand command, CancellationToken cancellationToken) => ValueTask.FromResult(Unit.Value);
        }

        public sealed class SampleNotificationHandler : INotificationHandler<SampleNotification>
        {
            public ValueTask Handle(SampleNotification notification, CancellationToken cancellationToken) => ValueTask.CompletedTask;
        }
    }
}
