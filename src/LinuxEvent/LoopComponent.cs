namespace LinuxEvent;

/// <summary>
/// Base class of a component built on a loop (a stream, a listener, a connect attempt, a child process, a transport):
/// it gives a component written outside the library the same disposal behaviour as the library's own.
/// </summary>
/// <remarks>
/// <para><b>Contract.</b> A component attaches itself (<see cref="AttachToLoop"/>) once it holds something that only
/// the loop can settle (a pending await, an fd the loop watches, a kernel operation), and detaches
/// (<see cref="DetachFromLoop"/>) when it closes normally. If the loop is disposed first,
/// <see cref="OnLoopDisposing"/> runs exactly once, on the disposing thread, after the backend has been released
/// (watchers deactivated, proactor operations settled) and before the loop's final drain. The component then settles
/// its pending awaits (typically with <see cref="ObjectDisposedException"/>) and closes what it owns; continuations it
/// queues with <see cref="Loop.Defer"/> run in the final drain, before <see cref="Loop.Dispose"/> returns.</para>
/// <para><b>Cost.</b> Attaching and detaching are O(1) and allocate nothing (the list links live in this object), so a
/// server may attach every connection.</para>
/// <para><b>Threading.</b> Attach and detach on the loop thread, like every loop-only call.</para>
/// </remarks>
public abstract class LoopComponent
{
    internal LoopComponent? PreviousComponent, NextComponent;
    internal bool Linked;

    /// <summary>Creates a component of <paramref name="loop"/> (not yet attached).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> is null.</exception>
    protected LoopComponent(Loop loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        Loop = loop;
    }

    /// <summary>The loop this component runs on.</summary>
    public Loop Loop { get; }

    /// <summary>
    /// True while another thread is tearing the loop down (it runs the loop, which disposes when its iteration ends,
    /// or runs the disposal itself). A close or dispose called from here then returns at once: the loop's disposal
    /// releases the component (<see cref="OnLoopDisposing"/>), and racing it would touch the loop from two threads.
    /// </summary>
    protected bool IsLoopTornDownElsewhere => Loop.IsTornDownElsewhere;

    /// <summary>True while attached: the loop's disposal will call <see cref="OnLoopDisposing"/>.</summary>
    protected bool IsAttachedToLoop => Linked;

    /// <summary>
    /// Attaches the component so that the loop's disposal releases it. Returns false if the loop's disposal has
    /// already released its components (treat the loop as disposed: nothing will settle what this component waits
    /// for). Idempotent.
    /// </summary>
    protected bool AttachToLoop() => Loop.AttachComponent(this);

    /// <summary>Detaches the component (it closed normally, so disposal has nothing to release). Idempotent.</summary>
    protected void DetachFromLoop() => Loop.DetachComponent(this);

    /// <summary>
    /// The loop is being disposed while the component is attached (it has already been detached when this runs).
    /// Settle pending awaits and release what the component owns. Runs once, on the disposing thread; an exception
    /// goes to <see cref="Loop.UnhandledException"/> and the other components are still released.
    /// </summary>
    protected internal abstract void OnLoopDisposing();
}
