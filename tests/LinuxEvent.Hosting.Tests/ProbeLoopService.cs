namespace LinuxEvent.Hosting.Tests;

/// <summary>Records, with the thread it ran on, every call the host makes to a loop service.</summary>
public sealed class ProbeLoopService(HostedLoop loop, Probe probe) : ILoopService, IDisposable
{
    public HostedLoop Loop { get; } = loop;

    public void Start() => probe.Add($"start {Loop.Index} on {Environment.CurrentManagedThreadId} {Loop.Loop.Model} {Loop.Loop.BackendName}");

    public ValueTask StopAsync(CancellationToken cancellationToken)
    {
        probe.Add($"stop {Loop.Index} on-loop={Loop.Loop.IsOnLoopThread} stopping={Loop.Stopping.IsCancellationRequested}");
        return ValueTask.CompletedTask;
    }

    public void Dispose() => probe.Add($"dispose {Loop.Index} on {Environment.CurrentManagedThreadId} running={Loop.Loop.IsRunning} disposed={Loop.Loop.IsDisposed}");
}
