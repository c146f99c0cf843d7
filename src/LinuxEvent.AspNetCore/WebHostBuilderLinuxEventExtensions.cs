using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Runs Kestrel on LinuxEvent loops.</summary>
public static class WebHostBuilderLinuxEventExtensions
{
    /// <summary>
    /// Makes Kestrel accept and serve connections on LinuxEvent loops (one per core, epoll by default) instead of the
    /// runtime's sockets: <c>builder.WebHost.UseLinuxEvent();</c>. The app itself is unchanged. Endpoints the transport
    /// cannot bind (named pipes, file handles) still go to Kestrel's default transport.
    /// </summary>
    public static IWebHostBuilder UseLinuxEvent(this IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices(services => services.AddLinuxEventTransport());
    }

    /// <summary>Same as <see cref="UseLinuxEvent(IWebHostBuilder)"/>, configuring the transport's
    /// <see cref="LinuxEvent.AspNetCore.LinuxEventTransportOptions"/> (model, loop count, inline scheduling...).</summary>
    public static IWebHostBuilder UseLinuxEvent(this IWebHostBuilder builder, Action<LinuxEvent.AspNetCore.LinuxEventTransportOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        return builder.ConfigureServices(services => services.AddLinuxEventTransport(configure));
    }
}
