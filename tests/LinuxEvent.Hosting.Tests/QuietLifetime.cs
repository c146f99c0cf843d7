using Microsoft.Extensions.Hosting;

namespace LinuxEvent.Hosting.Tests;

/// <summary>A host lifetime that registers no signal handlers and prints nothing: the test process's signals stay
/// untouched by in-process hosts.</summary>
public sealed class QuietLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
