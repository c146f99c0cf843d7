namespace LinuxEvent;

/// <summary>A subscription made by <see cref="Loop.Signal(int, Action{Loop, SignalEvent})"/>. Cancel it (or dispose it) to unsubscribe.</summary>
public sealed class SignalSubscription : IDisposable
{
    internal readonly Loop Loop;
    internal readonly Action<Loop, SignalEvent> Callback;
    internal bool Active = true;

    internal SignalSubscription(Loop loop, int number, Action<Loop, SignalEvent> callback)
    {
        Loop = loop;
        Number = number;
        Callback = callback;
    }

    /// <summary>The signal number.</summary>
    public int Number { get; }

    /// <summary>True until cancelled (or the loop is disposed).</summary>
    public bool IsActive => Active;

    /// <summary>
    /// Unsubscribes. Returns true the first time. When the last subscription of this signal in the process goes,
    /// the signal's previous disposition is restored (the runtime's registration is removed). Loop thread only.
    /// </summary>
    public bool Cancel() => Loop.CancelSignal(this);

    /// <summary>Same as <see cref="Cancel"/>.</summary>
    public void Dispose() => Cancel();
}
