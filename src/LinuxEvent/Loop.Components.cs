namespace LinuxEvent;

public abstract partial class Loop
{
    // Components on the loop, in attach order (an intrusive list: the links live in the components, so attaching a
    // connection costs no allocation), released once by disposal.
    private LoopComponent? _componentsHead, _componentsTail;
    private int _componentCount;
    private bool _componentsReleased;

    /// <summary>True once disposal has released the attached components: the loop no longer uses any fd of theirs.</summary>
    internal bool ComponentsReleased => Volatile.Read(ref _componentsReleased);

    /// <summary>Number of attached <see cref="LoopComponent"/>s (diagnostics: closed components must not accumulate).</summary>
    public int ComponentCount => _componentCount;

    /// <summary>
    /// Attaches <paramref name="component"/> so that the loop's disposal releases it. Loop thread (or before the loop
    /// runs). Returns false when disposal has already released the components: the caller must treat the loop as
    /// disposed. Attaching an attached component is a no-op returning true.
    /// </summary>
    internal bool AttachComponent(LoopComponent component)
    {
        if (_componentsReleased) return false;
        if (component.Linked) return true;
        component.Linked = true;
        component.PreviousComponent = _componentsTail;
        component.NextComponent = null;
        if (_componentsTail is null) _componentsHead = component;
        else _componentsTail.NextComponent = component;
        _componentsTail = component;
        _componentCount++;
        return true;
    }

    /// <summary>Detaches <paramref name="component"/> (it closed normally). Idempotent; O(1).</summary>
    internal void DetachComponent(LoopComponent component)
    {
        if (!component.Linked) return;
        var previous = component.PreviousComponent;
        var next = component.NextComponent;
        if (previous is null) _componentsHead = next;
        else previous.NextComponent = next;
        if (next is null) _componentsTail = previous;
        else next.PreviousComponent = previous;
        component.PreviousComponent = component.NextComponent = null;
        component.Linked = false;
        _componentCount--;
    }

    /// <summary>
    /// Called by disposal on the draining thread, after the backend is released and before the final drain: releases
    /// every component once, in attach order. Each is detached before it runs, so a component that closes itself or
    /// another one keeps the list consistent; components attached from now on are refused. A throwing component goes
    /// to the error path and the others are still released: disposal must release everything.
    /// </summary>
    private void ReleaseComponents()
    {
        _componentsReleased = true;
        while (_componentsHead is { } component)
        {
            DetachComponent(component);
            try { component.OnLoopDisposing(); }
            catch (Exception ex) { ReportException(ex); }
        }
    }

    /// <summary>
    /// Hands every request queued for the kernel to it now, without waiting (proactor: one io_uring_enter; reactor:
    /// nothing is ever queued, so this does nothing). Call it before closing an fd that a request submitted in this
    /// iteration names by number: the kernel resolves the number only when it consumes the request, so a request still
    /// queued at close would fail with EBADF, or act on whatever file reuses the number. Loop thread.
    /// </summary>
    public void FlushSubmissions() => FlushSubmissions("Loop.FlushSubmissions");

    /// <summary>Same as <see cref="FlushSubmissions()"/>, naming the caller in errors.</summary>
    internal void FlushSubmissions(string call)
    {
        CheckLoopThread(call);
        Driver.FlushSubmissions(call);
    }
}
