namespace LinuxEvent;

/// <summary>
/// Accepting connections on one listening socket, implemented by the loop's model: the seam that LinuxEvent.Net's
/// <c>Listener</c> is written on, once, for both models. Create with <see cref="Loop.CreateAcceptChannel(int, IAcceptChannelHandler, int)"/>.
/// Loop-thread only.
/// </summary>
/// <remarks>
/// <para>Reactor: a level-triggered read watcher while accepting is on; each readiness report accepts until EAGAIN,
/// <see cref="MaxPerWake"/> connections, or the owner turning accepting off. Proactor: one multishot accept (a
/// single-shot accept resubmitted on kernels without it); turning accepting off cancels it, and a connection the kernel
/// had already accepted is still delivered.</para>
/// <para><see cref="Close"/> stops accepting and hands queued requests to the kernel before returning, so the owner may
/// close the socket right after. The channel never closes the listening socket.</para>
/// </remarks>
public abstract class AcceptChannel
{
    private protected AcceptChannel(Loop loop, int fd, int maxPerWake, IAcceptChannelHandler handler)
    {
        Loop = loop;
        Fd = fd;
        MaxPerWake = maxPerWake;
        Handler = handler;
    }

    /// <summary>The loop.</summary>
    public Loop Loop { get; }

    /// <summary>The listening socket.</summary>
    public int Fd { get; }

    /// <summary>Most connections accepted per readiness report (reactor).</summary>
    public int MaxPerWake { get; }

    /// <summary>True while accepting is on.</summary>
    public bool IsAccepting { get; private protected set; }

    /// <summary>True once closed.</summary>
    public bool IsClosed { get; private protected set; }

    private protected IAcceptChannelHandler Handler { get; }

    /// <summary>Turns accepting on or off (idempotent).</summary>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void SetAccepting(bool on)
    {
        Loop.CheckLoopThread("AcceptChannel.SetAccepting");
        if (IsClosed || IsAccepting == on) return;
        SetAcceptingCore(on);
    }

    /// <summary>Stops accepting for good. Idempotent.</summary>
    public void Close()
    {
        if (IsClosed) return;
        Loop.CheckLoopThread("AcceptChannel.Close");
        IsClosed = true;
        IsAccepting = false;
        CloseCore();
    }

    private protected abstract void SetAcceptingCore(bool on);

    private protected abstract void CloseCore();
}
