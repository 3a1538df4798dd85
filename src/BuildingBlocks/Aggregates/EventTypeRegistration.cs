using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Triggers.Modular.BuildingBlocks.Aggregates;

public static class EventTypeRegistration
{
    /// <summary>Adds a module's event types to the one shared <see cref="EventTypeRegistry"/> (and the serializer and
    /// <see cref="CommandHandler"/> built on it).</summary>
    public static IServiceCollection AddEventTypes(this IServiceCollection services, Action<EventTypeRegistry> register)
    {
        services.AddSingleton(new EventTypeSource(register));
        services.TryAddSingleton(sp =>
        {
            var registry = new EventTypeRegistry();
            foreach (var source in sp.GetServices<EventTypeSource>()) source.Register(registry);
            return registry;
        });
        services.TryAddSingleton<EventSerializer>();
        services.TryAddSingleton<CommandHandler>();
        return services;
    }

    private sealed record EventTypeSource(Action<EventTypeRegistry> Register);
}
