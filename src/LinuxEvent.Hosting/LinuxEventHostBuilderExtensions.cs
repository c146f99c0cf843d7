using Microsoft.Extensions.Hosting;

namespace LinuxEvent.Hosting;

/// <summary>Host builder shortcuts for <see cref="LinuxEventServiceCollectionExtensions.AddLinuxEventLoops"/>.</summary>
public static class LinuxEventHostBuilderExtensions
{
    /// <summary>Runs LinuxEvent loops as a hosted service of this host (see
    /// <see cref="LinuxEventServiceCollectionExtensions.AddLinuxEventLoops"/>).</summary>
    public static IHostBuilder UseLinuxEvent(this IHostBuilder builder, Action<LinuxEventHostingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices((_, services) => services.AddLinuxEventLoops(configure));
    }

    /// <summary>Runs LinuxEvent loops as a hosted service of this application (<c>Host.CreateApplicationBuilder()</c>,
    /// <c>WebApplication.CreateBuilder()</c>); see <see cref="LinuxEventServiceCollectionExtensions.AddLinuxEventLoops"/>.</summary>
    public static TBuilder UseLinuxEvent<TBuilder>(this TBuilder builder, Action<LinuxEventHostingOptions>? configure = null)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddLinuxEventLoops(configure);
        return builder;
    }
}
