using System.Collections.Concurrent;

namespace LinuxEvent.Hosting.Tests;

/// <summary>What the test loop services saw, shared with the test through the container.</summary>
public sealed class Probe
{
    public readonly ConcurrentQueue<string> Events = new();
    public readonly ConcurrentDictionary<int, int> Ports = new();          // loop index -> listening port
    public readonly ConcurrentDictionary<int, int> Accepted = new();       // loop index -> connections accepted
    public int Port;                      // the fixed port EchoLoopService binds on several loops
    public bool HoldStopUntilDeadline;    // EchoLoopService.StopAsync waits for the drain deadline
    public volatile bool StopCalled;
    public volatile bool StopTokenCancelled;
    public TaskCompletionSource StopEntered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Add(string e) => Events.Enqueue(e);
}
