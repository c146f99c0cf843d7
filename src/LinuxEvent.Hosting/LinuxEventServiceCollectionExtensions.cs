using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace LinuxEvent.Hosting;

/// <summary>Registers LinuxEvent loops with a host's services.</summary>
public static class LinuxEventServiceCollectionExtensions
{
    /// <summary>
    /// Runs a group of LinuxEvent loops (by default one reactor loop per CPU) as a hosted service: started with the
    /// host, drained and stopped with it, logged through <c>ILogger</c>, with systemd socket activation and
    /// notifications. Calling it again only adds <paramref name="configure"/>. See <see cref="LinuxEventHostedService"/>.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configure">Sets the options (model, loop count, setup, drain timeout, failure policy...).</param>
    public static IServiceCollection AddLinuxEventLoops(this IServiceCollection services, Action<LinuxEventHostingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<LinuxEventHostingOptions>();
        // Now, before the host is built: building it may remove NOTIFY_SOCKET from the environment (UseSystemd).
        services.TryAddSingleton(Systemd.SystemdEnvironment.Capture());
        if (configure is not null) services.Configure(configure);
        services.TryAddSingleton<LinuxEventHostedService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, LinuxEventHostedService>(
            static sp => sp.GetRequiredService<LinuxEventHostedService>()));
        return services;
    }

    /// <summary>
    /// Runs <typeparamref name="TService"/> on every hosted loop: one instance per loop, created on the loop's thread
    /// when it starts, with its constructor's parameters resolved from the container, and a <see cref="HostedLoop"/>
    /// parameter receiving its loop. Also registers the loops (<see cref="AddLinuxEventLoops"/>) if not done yet.
    /// </summary>
    public static IServiceCollection AddLoopService<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TService>(
        this IServiceCollection services) where TService : class, ILoopService
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddLinuxEventLoops();
        services.AddSingleton(new LoopServiceRegistration(typeof(TService)));
        return services;
    }
}
