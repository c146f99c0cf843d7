namespace LinuxEvent.Hosting;

/// <summary>
/// Work that runs on every hosted loop: typically a server that listens and serves connections. Register it with
/// <see cref="LinuxEventServiceCollectionExtensions.AddLoopService{TService}"/>; one instance is created per loop (so
/// per-loop state needs no locks), with its constructor's services resolved from the host's container and a
/// <see cref="HostedLoop"/> parameter receiving the loop it belongs to.
/// </summary>
/// <remarks>
/// Both methods are called on the loop's thread. A service that implements <see cref="IDisposable"/> is disposed on the
/// loop's thread after the loop stopped, before the loop itself is disposed.
/// </remarks>
public interface ILoopService
{
    /// <summary>
    /// Called on the loop's thread before the loop runs (and on the new loop after a restart): create listeners,
    /// timers, tasks. An exception fails the host's start (or the restart).
    /// </summary>
    void Start();

    /// <summary>
    /// Called on the loop's thread when the host begins to stop, after <see cref="HostedLoop.Stopping"/> was cancelled
    /// and the loop's tracked listeners were closed. Finish in-flight work (say goodbye to clients, flush, close
    /// idle connections); the loop stops once every service's task completed and every tracked connection and task
    /// finished, or at the drain deadline, when <paramref name="cancellationToken"/> is cancelled and the tracked
    /// connections are closed. The default does nothing.
    /// </summary>
    /// <param name="cancellationToken">Cancelled (on the loop's thread) at the drain deadline.</param>
    ValueTask StopAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
