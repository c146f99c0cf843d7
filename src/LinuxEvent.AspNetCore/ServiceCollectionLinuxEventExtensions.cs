using LinuxEvent.AspNetCore;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the LinuxEvent Kestrel transport.</summary>
public static class ServiceCollectionLinuxEventExtensions
{
    /// <summary>
    /// Registers the LinuxEvent transport as Kestrel's <see cref="IConnectionListenerFactory"/>. Kestrel tries the
    /// factories registered last first and asks each whether it can bind an endpoint
    /// (<see cref="IConnectionListenerFactorySelector"/>): IP and Unix-domain endpoints go to LinuxEvent, anything else
    /// to the next factory. Calling it more than once registers the transport once (options accumulate).
    /// </summary>
    public static IServiceCollection AddLinuxEventTransport(this IServiceCollection services, Action<LinuxEventTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<LinuxEventTransportOptions>();
        if (configure is not null) services.Configure(configure);
        if (!services.Any(d => d.ServiceType == typeof(IConnectionListenerFactory) && d.ImplementationType == typeof(LinuxEventTransportFactory)))
            services.Add(ServiceDescriptor.Singleton<IConnectionListenerFactory, LinuxEventTransportFactory>());
        services.TryAddSingleton(static sp => (LinuxEventTransportFactory)sp.GetServices<IConnectionListenerFactory>().First(f => f is LinuxEventTransportFactory));
        return services;
    }
}
