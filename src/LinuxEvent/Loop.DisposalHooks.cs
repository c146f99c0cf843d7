namespace LinuxEvent;

/// <summary>
/// A component built on a loop (a LinuxEvent.Net stream, listener or connect attempt) that must settle its pending
/// awaits and release what it owns when the loop is disposed under it. Without this a reactor component would wait
/// forever: disposal only deactivates watchers, it does not tell their owners.
/// </summary>
/// <remarks>The link lives inside the component (an intrusive list), so registering and unregistering are O(1) and
/// allocate nothing: a server registers every connection, and that must not cost an allocation per connection.</remarks>
internal interface ILoopDisposalHook
{
    /// <summary>The component's own list link; only the loop touches it.</summary>
    ref LoopDisposalLink DisposalLink { get; }

    /// <summary>
    /// The loop is being disposed: called on the disposing thread once the backend is released (watchers deactivated,
    /// proactor operations settled), and after the hook was unregistered. Settle pending awaits and close what the
    /// component owns; continuations queued now run in the loop's final drain.
    /// </summary>
    void OnLoopDisposing();
}

/// <summary>The list link a <see cref="ILoopDisposalHook"/> embeds (a field of the component, not an object of its own).</summary>
internal struct LoopDisposalLink
{
    internal ILoopDisposalHook? Previous, Next;
    internal bool Linked;
}

public abstract partial class Loop
{
    // Registration order is kept (append at the tail) so disposal settles components in a deterministic order.
    private ILoopDisposalHook? _disposalHead, _disposalTail;
    private int _disposalHookCount;
    private bool _disposalHooksRan;

    /// <summary>True once disposal has run the hooks: the loop no longer uses any fd of its components.</summary>
    internal bool DisposalHooksRan => Volatile.Read(ref _disposalHooksRan);

    /// <summary>Number of registered disposal hooks (diagnostics and tests: closed components must not accumulate).</summary>
    internal int DisposalHookCount => _disposalHookCount;

    /// <summary>
    /// Registers <paramref name="hook"/> to run when the loop is disposed. Loop thread (or before the loop runs).
    /// Returns false when disposal has already run the hooks: the caller must treat the loop as disposed. Registering a
    /// registered hook is a no-op returning true.
    /// </summary>
    internal bool RegisterDisposalHook(ILoopDisposalHook hook)
    {
        if (_disposalHooksRan) return false;
        ref var link = ref hook.DisposalLink;
        if (link.Linked) return true;
        link.Linked = true;
        link.Previous = _disposalTail;
        link.Next = null;
        if (_disposalTail is null) _disposalHead = hook;
        else _disposalTail.DisposalLink.Next = hook;
        _disposalTail = hook;
        _disposalHookCount++;
        return true;
    }

    /// <summary>Unregisters <paramref name="hook"/> (its component closed normally). Idempotent; O(1).</summary>
    internal void UnregisterDisposalHook(ILoopDisposalHook hook)
    {
        ref var link = ref hook.DisposalLink;
        if (!link.Linked) return;
        var previous = link.Previous;
        var next = link.Next;
        if (previous is null) _disposalHead = next;
        else previous.DisposalLink.Next = next;
        if (next is null) _disposalTail = previous;
        else next.DisposalLink.Previous = previous;
        link = default;
        _disposalHookCount--;
    }

    /// <summary>
    /// Called by disposal on the draining thread, after the backend is released and before the final drain: runs every
    /// hook once, in registration order. Each is unlinked before
    /// it runs, so a hook that closes its component (which unregisters it) or another component keeps the list
    /// consistent; hooks registered from now on are refused. A throwing hook goes to the error path and the others
    /// still run: disposal must release everything.
    /// </summary>
    private void RunDisposalHooks()
    {
        _disposalHooksRan = true;
        while (_disposalHead is { } hook)
        {
            UnregisterDisposalHook(hook);
            try { hook.OnLoopDisposing(); }
            catch (Exception ex) { ReportException(ex); }
        }
    }
}
